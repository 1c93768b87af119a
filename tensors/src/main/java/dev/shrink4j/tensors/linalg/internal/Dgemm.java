package dev.shrink4j.tensors.linalg.internal;

import dev.shrink4j.tensors.kernels.Kernels;

/**
 * Row-major fp64 GEMM for {@code linalg}, {@code C ← β·C + α·op(A)·op(B)} with offsets and leading
 * dimensions: a thin adapter over the {@link Kernels} SPI's packed dgemm (scalar reference or Vector
 * API, multi-threaded over {@code shrink4j.threads} workers), with a naive loop for tiny products
 * where packing does not pay (the leaves of the recursive factorizations).
 */
public final class Dgemm {
    /** At or below this many multiply-adds a plain loop beats packing. */
    private static final long SMALL = 16L * 16 * 16;

    private Dgemm() {}

    /** The kernels in use (for logs and benchmark labels). */
    public static Kernels kernels() {
        return Kernels.get();  // per call: KernelsProvider.use may change it (the CLI's --device)
    }

    /**
     * {@code C ← β·C + α·op(A)·op(B)}.
     *
     * @param m rows of op(A) and C
     * @param n columns of op(B) and C
     * @param k columns of op(A) = rows of op(B)
     * @param a (m, k) if !transA else (k, m), leading dimension lda
     * @param b (k, n) if !transB else (n, k), leading dimension ldb
     * @param c (m, n), leading dimension ldc; modified
     */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                            double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                            double beta, double[] c, int cOff, int ldc) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if (k <= 0 || alpha == 0.0 || (long) m * n * k <= SMALL || (transA && transB)) {
            naive(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else if (!transA && !transB) {
            Kernels.get().dgemmAB(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else if (!transA) {
            Kernels.get().dgemmABt(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            Kernels.get().dgemmAtB(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    private static void naive(boolean transA, boolean transB, int m, int n, int k, double alpha,
                              double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                              double beta, double[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            int co = cOff + i * ldc;
            if (beta == 0.0) {
                java.util.Arrays.fill(c, co, co + n, 0.0);
            } else if (beta != 1.0) {
                for (int j = 0; j < n; j++) {
                    c[co + j] *= beta;
                }
            }
            if (alpha == 0.0) {
                continue;
            }
            for (int p = 0; p < k; p++) {
                double av = alpha * (transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p]);
                if (av == 0.0) {
                    continue;
                }
                if (!transB) {
                    int bo = bOff + p * ldb;
                    for (int j = 0; j < n; j++) {
                        c[co + j] += av * b[bo + j];
                    }
                } else {
                    for (int j = 0; j < n; j++) {
                        c[co + j] += av * b[bOff + j * ldb + p];
                    }
                }
            }
        }
    }
}
