package dev.shrink4j.bench.formats;

import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.FormatKernels;
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
 * y = Ŵ·x, 4096 × 4096, one thread, F32 activations, for every format; "f32" is the dense F32
 * streaming baseline through the same kernel family. {@code kernels=scalar} measures the reference.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 7, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx6g"})
public class FormatMatvecBench {
    @Param({"f32", "int4-g128", "int4-g32", "int4-g128-sym", "int3-g128", "int2-g128", "int8-g128", "lut4", "lut3", "csr-1pct", "nm-2of4", "nm-2of4-int4-g32", "nm-2of4-int4-g32-sym", "int3-g128+csr-0.5pct", "gguf-q4_0", "gguf-q4_1", "gguf-q8_0", "gguf-q4_k", "gguf-q5_k", "gguf-q6_k"})
    public String format;

    @Param({"4096"})
    public int size;

    @Param({"panama"})
    public String kernels;

    Arena arena;
    CompressedWeight w; // (size, size)
    FormatKernels k;
    float[] x;          // (size)
    float[] y;          // (size)

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        w = FormatBenchData.build(arena, format, size, size);
        k = kernels.equals("scalar") ? FormatKernels.scalar() : FormatKernels.panama().orElseThrow();
        x = FormatBenchData.gaussian(size, 7, 1.0);
        y = new float[size];
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matvec() {
        w.matvec(x, y, k);
        return y;
    }
}
