package dev.shrink4j.model;

import dev.shrink4j.tensors.Parallel;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.kernels.Kernels;

/**
 * The matrix products of the runtime on row-major F32 heap arrays, delegated to the {@link Kernels}
 * SPI (Vector API when available, scalar reference otherwise; {@code -Dshrink4j.kernels=scalar}
 * forces it). Weights stay in their stored dtype (F32/F16/BF16); the kernels widen them panel by panel.
 */
final class Gemm {
    /**
     * Kernels.get() and its one-thread copy, for work already split across the pool (per head, per row
     * chunk: no nested fan-out). Read per call, not kept from class load, so the CLI's {@code --device}
     * (KernelsProvider.use) reaches the model in every command of a JVM; the copy is remade when the
     * choice changes (a race makes it twice, harmlessly).
     */
    private record Choice(Kernels k, Kernels k1) {}

    private static volatile Choice choice;

    private static Choice choice() {
        Kernels k = Kernels.get();
        Choice c = choice;
        if (c == null || c.k() != k) {
            c = new Choice(k, k.withThreads(1));
            choice = c;
        }
        return c;
    }

    private Gemm() {}

    /** Products below this many multiply-adds run on the calling thread (as the kernels' own threshold). */
    private static final long PARALLEL_MIN_WORK = 1L << 17;

    static Kernels kernels() {
        return choice().k();
    }

    private static Kernels forWork(long madds) {
        Choice c = choice();
        return madds < PARALLEL_MIN_WORK ? c.k1() : c.k();
    }

    /** Runs {@code body(i)} for i in [0, n) on the shared pool. */
    static void parallelFor(int n, java.util.function.IntConsumer body) {
        Parallel.forEach(n, body::accept);
    }

    /**
     * y(n, d_out) = x(n, d_in) · wᵀ, or += when {@code accumulate}.
     *
     * @param w weight (d_out, d_in), any floating dtype
     */
    static void xwt(float[] x, int n, Tensor w, float[] y, boolean accumulate) {
        int dOut = (int) w.shape().dim(0);
        int dIn = (int) w.shape().dim(1);
        forWork((long) n * dOut * dIn).gemmABt(n, x, 0, dIn, w, y, 0, dOut, accumulate);
    }

    /**
     * dx(n, d_in) = dy(n, d_out) · w, or += when {@code accumulate} (backward through a linear).
     *
     * @param w weight (d_out, d_in), any floating dtype
     */
    static void dyw(float[] dy, int n, Tensor w, float[] dx, boolean accumulate) {
        int dOut = (int) w.shape().dim(0);
        int dIn = (int) w.shape().dim(1);
        forWork((long) n * dOut * dIn).gemmAB(n, dy, 0, dOut, w, dx, 0, dIn, accumulate);
    }

    /** c(m, n) = a(m, k) · b(n, k)ᵀ (+= when {@code accumulate}), all contiguous. */
    static void abt(float[] a, int m, int k, float[] b, int n, float[] c, boolean accumulate) {
        forWork((long) m * n * k).gemmABt(m, n, k, a, 0, k, b, 0, k, c, 0, n, accumulate);
    }

    /** dW(d_out, d_in) (+)= dyᵀ(d_out, n) · x(n, d_in): a linear's weight gradient summed over tokens. */
    static void weightGrad(float[] dy, float[] x, int n, int dOut, int dIn, float[] dw, boolean accumulate) {
        forWork((long) n * dOut * dIn).gemmAtB(dOut, dIn, n, dy, 0, dOut, x, 0, dIn, dw, 0, dIn, accumulate);
    }

    /** Single-threaded C = A·Bᵀ with offsets and leading dimensions (inside per-head tasks). */
    static void abt1(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
                     boolean accumulate) {
        choice().k1().gemmABt(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    /** Single-threaded C = A·B. */
    static void ab1(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
                    boolean accumulate) {
        choice().k1().gemmAB(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    /** Single-threaded C = Aᵀ·B. */
    static void atb1(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
                     boolean accumulate) {
        choice().k1().gemmAtB(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }
}
