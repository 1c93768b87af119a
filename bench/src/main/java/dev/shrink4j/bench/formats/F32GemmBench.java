package dev.shrink4j.bench.formats;

import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.kernels.Kernels;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The dense baselines the formats are compared with, through the project's {@link Kernels} SPI on
 * one thread: Y = X·Wᵀ (X (m, 4096), W F32 4096 × 4096) and, with m = 1, y = W·x.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class F32GemmBench {
    @Param({"1", "64"})
    public int m;

    @Param({"4096"})
    public int size;

    Arena arena;
    Tensor w;      // (size, size) F32
    float[] x;     // (m, size)
    float[] y;     // (m, size)
    Kernels kernels;

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        w = Tensor.ofFloats(arena, Shape.matrix(size, size), FormatBenchData.gaussian(size * size, 42, 0.02));
        x = FormatBenchData.gaussian(m * size, 8, 1.0);
        y = new float[m * size];
        kernels = Kernels.get().withThreads(1);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] gemmABt() {
        if (m == 1) {
            kernels.matvec(w, x, 0, y, 0, false);
        } else {
            kernels.gemmABt(m, x, 0, size, w, y, 0, size, false);
        }
        return y;
    }
}
