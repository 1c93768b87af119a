package dev.shrink4j.bench.kernels;

import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.BFloat16BufferTensor;
import com.github.tjake.jlama.tensor.FloatBufferTensor;
import com.github.tjake.jlama.tensor.operations.PanamaTensorOperations;
import com.github.tjake.jlama.util.MachineSpec;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.kernels.Kernels;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Side by side with jlama's {@code PanamaTensorOperations} (the Java peer) on one thread:
 * {@code batchDotProduct} computes R (m, n) = A (m, k)·B (n, k)ᵀ on the calling thread, which is our
 * {@code gemmABt} with a stored weight; with m = 1 it is a matvec. Same data, same thread count.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class JlamaBench {
    /** "gemm-1024": m = n = k = 1024; "matvec-4096": m = 1, n = k = 4096. */
    @Param({"gemm-1024", "matvec-4096"})
    public String shape;

    @Param({"F32", "BF16"})
    public String dtype;

    int m, n, k;
    Arena arena;
    Tensor w;                 // (n, k) ours
    float[] a;                // (m, k)
    float[] c;                // (m, n)
    Kernels kernels;
    PanamaTensorOperations jlama;
    AbstractTensor ja;        // (m, k) F32
    AbstractTensor jw;        // (n, k) F32 or BF16
    FloatBufferTensor jr;     // (m, n)

    @Setup
    public void setup() {
        String[] s = shape.split("-");
        int size = Integer.parseInt(s[1]);
        m = s[0].equals("gemm") ? size : 1;
        n = size;
        k = size;
        arena = Arena.ofShared();
        DType dt = DType.parse(dtype);
        w = Tensor.allocate(arena, dt, Shape.of(n, k));
        BenchData.fillRandom(w, 11);
        a = BenchData.randomFloats(m * k, 12);
        c = new float[m * n];
        kernels = Kernels.get().withThreads(1);

        jlama = new PanamaTensorOperations(MachineSpec.VECTOR_TYPE);
        FloatBufferTensor fa = new FloatBufferTensor(m, k);
        for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) fa.set(a[i * k + p], i, p);
        ja = fa;
        FloatBufferTensor fw = new FloatBufferTensor(n, k);
        float[] wv = w.toFloatArray();
        for (int j = 0; j < n; j++) for (int p = 0; p < k; p++) fw.set(wv[j * k + p], j, p);
        jw = dt == DType.BF16 ? new BFloat16BufferTensor(fw) : fw;
        jr = new FloatBufferTensor(m, n);
        verifySameResult();
    }

    /** Both sides must compute the same product, or the comparison means nothing. */
    private void verifySameResult() {
        ours();
        jlama();
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                maxDiff = Math.max(maxDiff, Math.abs(c[i * n + j] - jr.get(i, j)));
                maxAbs = Math.max(maxAbs, Math.abs(c[i * n + j]));
            }
        }
        if (maxDiff > 1e-3 * Math.max(1, maxAbs)) {
            throw new IllegalStateException("jlama and shrink4j disagree on " + shape + " " + dtype + ": max |diff| " + maxDiff);
        }
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] ours() {
        if (m == 1) {
            kernels.matvec(w, a, 0, c, 0, false);
        } else {
            kernels.gemmABt(m, a, 0, k, w, c, 0, n, false);
        }
        return c;
    }

    @Benchmark
    public AbstractTensor jlama() {
        jlama.batchDotProduct(jr, ja, jw, 0, 0, k, 0, 0, n);
        return jr;
    }
}
