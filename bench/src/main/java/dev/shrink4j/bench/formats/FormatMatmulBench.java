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

/** Y = X·Ŵᵀ with X (m, 4096), Ŵ 4096 × 4096, one thread: batched (prefill-like) use of the formats vs the F32 GEMM. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx6g"})
public class FormatMatmulBench {
    @Param({"f32", "int4-g128", "gguf-q4_k", "gguf-q6_k"})
    public String format;

    @Param({"64"})
    public int m;

    @Param({"4096"})
    public int size;

    Arena arena;
    CompressedWeight w; // (size, size)
    FormatKernels k;
    float[] x;          // (m, size)
    float[] y;          // (m, size)

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        w = FormatBenchData.build(arena, format, size, size);
        k = FormatKernels.panama().orElseThrow();
        x = FormatBenchData.gaussian(m * size, 8, 1.0);
        y = new float[m * size];
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matmul() {
        w.matmul(x, m, y, k);
        return y;
    }
}
