package dev.shrink4j.tensors.kernels.panama;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * F64 GEMM C = alpha·A·B + beta·C for the fp64 linear algebra (blocked Cholesky/SVD updates). Same
 * scheme as {@link PanamaGemm}: heap panels, MR = 8 rows × NR = 2 vectors register block (16
 * accumulators), KC × NC block of B in L2.
 */
final class PanamaDgemm {
    static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 8;
    static final int NR = 2 * L;
    static final int KC = 256;
    static final int MC = 64;
    static final int NC = Math.max(NR, 256 / NR * NR);

    private PanamaDgemm() {}

    /** A double operand X(idx, p) as in {@link Panel}: reduction-contiguous (x[idx·ld + p]) or index-contiguous (x[p·ld + idx]). */
    record DPanel(double[] x, int off, int ld, boolean reductionContiguous) {
        void pack(double[] dst, int dstOff, int idx0, int cnt, int p0, int kc, int r) {
            if (reductionContiguous) {
                for (int q = 0; q < r; q++) {
                    int o = dstOff + q;
                    if (q >= cnt) {
                        for (int p = 0; p < kc; p++, o += r) dst[o] = 0;
                        continue;
                    }
                    int s = off + (idx0 + q) * ld + p0;
                    for (int p = 0; p < kc; p++, o += r) dst[o] = x[s + p];
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    int o = dstOff + p * r;
                    System.arraycopy(x, off + (p0 + p) * ld + idx0, dst, o, cnt);
                    for (int q = cnt; q < r; q++) dst[o + q] = 0;
                }
            }
        }
    }

    private static final class Scratch {
        final double[] a = new double[MC * KC];
        final double[] b = new double[NC * KC];
        final double[] tile = new double[MR * NR];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Rows [i0, i1) × columns [j0, j1) of C = alpha·A·B + beta·C. */
    static void gemm(int i0, int i1, int j0, int j1, int k, double alpha, DPanel a, DPanel b,
                     double beta, double[] c, int cOff, int ldc) {
        if (i0 >= i1 || j0 >= j1) {
            return;
        }
        if (k == 0 || alpha == 0) {
            for (int i = i0; i < i1; i++) {
                for (int j = j0; j < j1; j++) {
                    int o = cOff + i * ldc + j;
                    c[o] = beta == 0 ? 0 : beta * c[o];
                }
            }
            return;
        }
        Scratch s = SCRATCH.get();
        double[] ap = s.a;
        double[] bp = s.b;
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                double bt = pc == 0 ? beta : 1.0;
                for (int jr = 0; jr < nc; jr += NR) {
                    b.pack(bp, jr * kc, jc + jr, Math.min(NR, nc - jr), pc, kc, NR);
                }
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    for (int ir = 0; ir < mc; ir += MR) {
                        a.pack(ap, ir * kc, ic + ir, Math.min(MR, mc - ir), pc, kc, MR);
                    }
                    for (int ir = 0; ir < mc; ir += MR) {
                        int mr = Math.min(MR, mc - ir);
                        for (int jr = 0; jr < nc; jr += NR) {
                            int nr = Math.min(NR, nc - jr);
                            int co = cOff + (ic + ir) * ldc + jc + jr;
                            if (mr == MR && nr == NR) {
                                kernel(kc, ap, ir * kc, bp, jr * kc, c, co, ldc, alpha, bt);
                            } else {
                                double[] t = s.tile;
                                kernel(kc, ap, ir * kc, bp, jr * kc, t, 0, NR, 1.0, 0.0);
                                for (int r = 0; r < mr; r++) {
                                    for (int q = 0; q < nr; q++) {
                                        int o = co + r * ldc + q;
                                        double v = alpha * t[r * NR + q];
                                        c[o] = bt == 0 ? v : v + bt * c[o];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static void kernel(int kc, double[] ap, int ao, double[] bp, int bo, double[] c, int co, int ldc, double alpha, double beta) {
        DoubleVector c00 = DoubleVector.zero(S), c01 = DoubleVector.zero(S);
        DoubleVector c10 = DoubleVector.zero(S), c11 = DoubleVector.zero(S);
        DoubleVector c20 = DoubleVector.zero(S), c21 = DoubleVector.zero(S);
        DoubleVector c30 = DoubleVector.zero(S), c31 = DoubleVector.zero(S);
        DoubleVector c40 = DoubleVector.zero(S), c41 = DoubleVector.zero(S);
        DoubleVector c50 = DoubleVector.zero(S), c51 = DoubleVector.zero(S);
        DoubleVector c60 = DoubleVector.zero(S), c61 = DoubleVector.zero(S);
        DoubleVector c70 = DoubleVector.zero(S), c71 = DoubleVector.zero(S);
        for (int p = 0; p < kc; p++, ao += MR, bo += NR) {
            DoubleVector b0 = DoubleVector.fromArray(S, bp, bo);
            DoubleVector b1 = DoubleVector.fromArray(S, bp, bo + L);
            DoubleVector x;
            x = DoubleVector.broadcast(S, ap[ao]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = DoubleVector.broadcast(S, ap[ao + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = DoubleVector.broadcast(S, ap[ao + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = DoubleVector.broadcast(S, ap[ao + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = DoubleVector.broadcast(S, ap[ao + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = DoubleVector.broadcast(S, ap[ao + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = DoubleVector.broadcast(S, ap[ao + 6]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = DoubleVector.broadcast(S, ap[ao + 7]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        store(c, co, c00, c01, alpha, beta);
        store(c, co + ldc, c10, c11, alpha, beta);
        store(c, co + 2 * ldc, c20, c21, alpha, beta);
        store(c, co + 3 * ldc, c30, c31, alpha, beta);
        store(c, co + 4 * ldc, c40, c41, alpha, beta);
        store(c, co + 5 * ldc, c50, c51, alpha, beta);
        store(c, co + 6 * ldc, c60, c61, alpha, beta);
        store(c, co + 7 * ldc, c70, c71, alpha, beta);
    }

    private static void store(double[] c, int o, DoubleVector v0, DoubleVector v1, double alpha, double beta) {
        if (alpha != 1.0) {
            v0 = v0.mul(alpha);
            v1 = v1.mul(alpha);
        }
        if (beta != 0) {
            v0 = DoubleVector.fromArray(S, c, o).fma(DoubleVector.broadcast(S, beta), v0);
            v1 = DoubleVector.fromArray(S, c, o + L).fma(DoubleVector.broadcast(S, beta), v1);
        }
        v0.intoArray(c, o);
        v1.intoArray(c, o + L);
    }
}
