package dev.shrink4j.tensors.linalg.internal;

import java.util.Locale;

/**
 * Row-major fp64 GEMM, {@code C ← β·C + α·op(A)·op(B)}, the engine of every blocked factorization in
 * {@code linalg}. BLIS-style: op(B) is packed in (KC × NC) panels of NR-wide slivers, op(A) in (MC × KC)
 * blocks of MR-high slivers, and a {@link GemmMicroKernel} computes MR × NR tiles. Transposition is
 * absorbed by packing, so all four transpose cases run the same kernel.
 *
 * <p>The kernel is chosen once: the Vector API kernel in {@code dev.shrink4j.tensors.kernels.panama}
 * when the incubator module is readable, else the scalar reference. The system property
 * {@code shrink4j.kernels=scalar|panama} forces a choice.
 *
 * <p>Single-threaded on purpose: callers parallelize over independent layers. Packing buffers are
 * per-thread scratch (a few hundred KiB).
 */
public final class Dgemm {
    private static final int KC = 256;
    private static final int MC_TARGET = 96;
    private static final int NC = 4096;
    /** Below this many multiply-adds a naive loop beats packing. */
    private static final long SMALL = 24L * 24 * 24;

    private static final GemmMicroKernel KERNEL = chooseKernel();
    private static final ThreadLocal<double[][]> SCRATCH = new ThreadLocal<>();

    private Dgemm() {}

    /** The micro-kernel in use. */
    public static GemmMicroKernel kernel() {
        return KERNEL;
    }

    /**
     * {@code C ← β·C + α·op(A)·op(B)} with row-major storage and offsets.
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
        gemm(KERNEL, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** As {@link #gemm(boolean, boolean, int, int, int, double, double[], int, int, double[], int, int, double, double[], int, int)} with an explicit kernel (tests). */
    public static void gemm(GemmMicroKernel kern, boolean transA, boolean transB, int m, int n, int k, double alpha,
                            double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                            double beta, double[] c, int cOff, int ldc) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if (beta != 1.0) {
            for (int i = 0; i < m; i++) {
                int co = cOff + i * ldc;
                if (beta == 0.0) {
                    java.util.Arrays.fill(c, co, co + n, 0.0);
                } else {
                    for (int j = 0; j < n; j++) {
                        c[co + j] *= beta;
                    }
                }
            }
        }
        if (k <= 0 || alpha == 0.0) {
            return;
        }
        if ((long) m * n * k <= SMALL) {
            naive(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
            return;
        }
        int mr = kern.mr();
        int nr = kern.nr();
        int mc = Math.max(mr, (MC_TARGET / mr) * mr);
        int nc = (NC / nr) * nr;
        double[][] scratch = scratch(mc, nc, mr, nr);
        double[] ap = scratch[0];
        double[] bp = scratch[1];
        double[] tile = scratch[2];
        for (int jc = 0; jc < n; jc += nc) {
            int ncEff = Math.min(nc, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                packB(transB, b, bOff, ldb, pc, kc, jc, ncEff, nr, bp);
                for (int ic = 0; ic < m; ic += mc) {
                    int mcEff = Math.min(mc, m - ic);
                    packA(transA, a, aOff, lda, ic, mcEff, pc, kc, mr, alpha, ap);
                    for (int jr = 0; jr < ncEff; jr += nr) {
                        int nrEff = Math.min(nr, ncEff - jr);
                        int bpo = (jr / nr) * kc * nr;
                        for (int ir = 0; ir < mcEff; ir += mr) {
                            int mrEff = Math.min(mr, mcEff - ir);
                            int apo = (ir / mr) * kc * mr;
                            int co = cOff + (ic + ir) * ldc + jc + jr;
                            if (mrEff == mr && nrEff == nr) {
                                kern.kernel(kc, ap, apo, bp, bpo, c, co, ldc);
                            } else {
                                java.util.Arrays.fill(tile, 0, mr * nr, 0.0);
                                kern.kernel(kc, ap, apo, bp, bpo, tile, 0, nr);
                                for (int r = 0; r < mrEff; r++) {
                                    for (int j = 0; j < nrEff; j++) {
                                        c[co + r * ldc + j] += tile[r * nr + j];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Packs α·op(A)[ic:ic+mcEff, pc:pc+kc] as MR-high slivers, each (kc, mr) row-major, zero-padded. */
    private static void packA(boolean transA, double[] a, int aOff, int lda, int ic, int mcEff, int pc, int kc,
                              int mr, double alpha, double[] ap) {
        for (int s = 0; s < mcEff; s += mr) {
            int rows = Math.min(mr, mcEff - s);
            int base = (s / mr) * kc * mr;
            if (!transA) {
                for (int r = 0; r < rows; r++) {
                    int ao = aOff + (ic + s + r) * lda + pc;
                    for (int p = 0; p < kc; p++) {
                        ap[base + p * mr + r] = alpha * a[ao + p];
                    }
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    int ao = aOff + (pc + p) * lda + ic + s;
                    int o = base + p * mr;
                    for (int r = 0; r < rows; r++) {
                        ap[o + r] = alpha * a[ao + r];
                    }
                }
            }
            if (rows < mr) {
                for (int p = 0; p < kc; p++) {
                    for (int r = rows; r < mr; r++) {
                        ap[base + p * mr + r] = 0.0;
                    }
                }
            }
        }
    }

    /** Packs op(B)[pc:pc+kc, jc:jc+ncEff] as NR-wide slivers, each (kc, nr) row-major, zero-padded. */
    private static void packB(boolean transB, double[] b, int bOff, int ldb, int pc, int kc, int jc, int ncEff,
                              int nr, double[] bp) {
        for (int s = 0; s < ncEff; s += nr) {
            int cols = Math.min(nr, ncEff - s);
            int base = (s / nr) * kc * nr;
            if (!transB) {
                for (int p = 0; p < kc; p++) {
                    int bo = bOff + (pc + p) * ldb + jc + s;
                    int o = base + p * nr;
                    System.arraycopy(b, bo, bp, o, cols);
                    for (int j = cols; j < nr; j++) {
                        bp[o + j] = 0.0;
                    }
                }
            } else {
                for (int j = 0; j < cols; j++) {
                    int bo = bOff + (jc + s + j) * ldb + pc;
                    for (int p = 0; p < kc; p++) {
                        bp[base + p * nr + j] = b[bo + p];
                    }
                }
                for (int j = cols; j < nr; j++) {
                    for (int p = 0; p < kc; p++) {
                        bp[base + p * nr + j] = 0.0;
                    }
                }
            }
        }
    }

    private static void naive(boolean transA, boolean transB, int m, int n, int k, double alpha,
                              double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                              double[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            int co = cOff + i * ldc;
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

    private static double[][] scratch(int mc, int nc, int mr, int nr) {
        double[][] s = SCRATCH.get();
        int aLen = ((mc + mr - 1) / mr) * mr * KC;
        int bLen = ((nc + nr - 1) / nr) * nr * KC;
        if (s == null || s[0].length < aLen || s[1].length < bLen || s[2].length < mr * nr) {
            s = new double[][] {new double[aLen], new double[bLen], new double[mr * nr]};
            SCRATCH.set(s);
        }
        return s;
    }

    private static GemmMicroKernel chooseKernel() {
        String forced = System.getProperty("shrink4j.kernels", "").trim().toLowerCase(Locale.ROOT);
        if (forced.equals("scalar")) {
            return new ScalarGemmKernel();
        }
        GemmMicroKernel panama = loadPanama();
        if (panama != null) {
            return panama;
        }
        return new ScalarGemmKernel();
    }

    /** Loads the Vector API kernel by name so incubator classes are never linked when the module is absent. */
    public static GemmMicroKernel loadPanama() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return null;
        }
        try {
            Class<?> cls = Class.forName("dev.shrink4j.tensors.kernels.panama.PanamaLinalgGemmKernel");
            return (GemmMicroKernel) cls.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return null;
        }
    }
}
