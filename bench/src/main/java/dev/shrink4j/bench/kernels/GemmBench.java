package dev.shrink4j.bench.kernels;

import dev.shrink4j.tensors.kernels.Kernels;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** F32 GEMM C = A·Bᵀ (size³, heap arrays) on a given number of threads; the peer is NumPy/OpenBLAS sgemm. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class GemmBench {
    @Param({"2048"})
    public int size;

    @Param({"1", "2"})
    public int threads;

    float[] a; // (size, size)
    float[] b; // (size, size)
    float[] c; // (size, size)
    Kernels kernels;

    @Setup
    public void setup() {
        Random r = new Random(1);
        a = new float[size * size];
        b = new float[size * size];
        c = new float[size * size];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextFloat() - 0.5f;
            b[i] = r.nextFloat() - 0.5f;
        }
        kernels = Kernels.get().withThreads(threads);
    }

    @Benchmark
    public float[] gemmABt() {
        kernels.gemmABt(size, size, size, a, 0, size, b, 0, size, c, 0, size, false);
        return c;
    }

    @Benchmark
    public float[] gemmAB() {
        kernels.gemmAB(size, size, size, a, 0, size, b, 0, size, c, 0, size, false);
        return c;
    }
}
