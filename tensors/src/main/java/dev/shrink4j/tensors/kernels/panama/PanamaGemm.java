package dev.shrink4j.tensors.kernels.panama;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * F32 GEMM C(m, n) (+)= A(m, k)·B(k, n), Goto/BLIS style: operands are packed by {@link Panel}s into
 * heap panels (B: KC × NC block, NR-wide strips; A: MC × KC block, MR-high strips) and an MR × NR
 * register-blocked micro-kernel does the arithmetic on those arrays only.
 *
 * <p>Sizes for AVX-512 (16 lanes, 32 vector registers): MR = 8 rows × NR = 2 vectors gives 16
 * accumulators + 2 B vectors + 1 broadcast, so nothing spills, and 16 independent FMA chains cover the
 * FMA latency (4 cycles) × throughput. The A strip (MR × KC = 8 KiB) stays in L1 while the B block
 * (KC × NC = 512 KiB) streams from L2.
 */
final class PanamaGemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 8;
    static final int NR = 2 * L;
    static final int KC = 256;
    static final int MC = 128;
    static final int NC = Math.max(NR, 512 / NR * NR);

    private PanamaGemm() {}

    /** Per-thread packing buffers, reused across calls. */
    private static final class Scratch {
        final float[] a = new float[MC * KC];
        final float[] b = new float[NC * KC];
        final float[] tile = new float[MR * NR];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * Computes rows [i0, i1) × columns [j0, j1) of C. With {@code upper} only entries with j ≥ i are
     * written (the others are not touched) and C is always added to.
     */
    static void gemm(int i0, int i1, int j0, int j1, int k, Panel a, Panel b,
                     float[] c, int cOff, int ldc, boolean accumulate, boolean upper) {
        if (i0 >= i1 || j0 >= j1) {
            return;
        }
        if (k == 0) {
            if (!accumulate) {
                for (int i = i0; i < i1; i++) java.util.Arrays.fill(c, cOff + i * ldc + j0, cOff + i * ldc + j1, 0f);
            }
            return;
        }
        Scratch s = SCRATCH.get();
        float[] ap = s.a;
        float[] bp = s.b;
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            if (upper && i0 >= jc + nc) {
                continue;
            }
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean add = accumulate || pc > 0;
                for (int jr = 0; jr < nc; jr += NR) {
                    b.pack(bp, jr * kc, jc + jr, Math.min(NR, nc - jr), pc, kc, NR);
                }
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    if (upper && ic >= jc + nc) {
                        break;
                    }
                    for (int ir = 0; ir < mc; ir += MR) {
                        a.pack(ap, ir * kc, ic + ir, Math.min(MR, mc - ir), pc, kc, MR);
                    }
                    for (int ir = 0; ir < mc; ir += MR) {
                        int mr = Math.min(MR, mc - ir);
                        int row = ic + ir;
                        for (int jr = 0; jr < nc; jr += NR) {
                            int nr = Math.min(NR, nc - jr);
                            int col = jc + jr;
                            if (upper && col + nr - 1 < row) {
                                continue;
                            }
                            boolean straddles = upper && col < row + mr - 1;
                            float[] t = s.tile;
                            kernel(kc, ap, ir * kc, bp, jr * kc, t);
                            if (mr == MR && nr == NR && !straddles) {
                                mergeTile(t, c, cOff + row * ldc + col, ldc, add);
                            } else {
                                for (int r = 0; r < mr; r++) {
                                    int from = upper ? Math.max(0, row + r - col) : 0;
                                    int base = cOff + (row + r) * ldc + col;
                                    for (int q = from; q < nr; q++) {
                                        c[base + q] = add ? c[base + q] + t[r * NR + q] : t[r * NR + q];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** t[MR × NR] = Apanel(MR × kc)·Bpanel(kc × NR), panels as {@link Panel} packs them. */
    private static void kernel(int kc, float[] ap, int ao, float[] bp, int bo, float[] t) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++, ao += MR, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ao]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, ap[ao + 7]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        // Plain stores into the tile: writing C here (load, add, store) pushes the method past C2's
        // inlining node budget and the vectors get boxed; the tile is merged into C by mergeTile.
        c00.intoArray(t, 0);
        c01.intoArray(t, L);
        c10.intoArray(t, NR);
        c11.intoArray(t, NR + L);
        c20.intoArray(t, 2 * NR);
        c21.intoArray(t, 2 * NR + L);
        c30.intoArray(t, 3 * NR);
        c31.intoArray(t, 3 * NR + L);
        c40.intoArray(t, 4 * NR);
        c41.intoArray(t, 4 * NR + L);
        c50.intoArray(t, 5 * NR);
        c51.intoArray(t, 5 * NR + L);
        c60.intoArray(t, 6 * NR);
        c61.intoArray(t, 6 * NR + L);
        c70.intoArray(t, 7 * NR);
        c71.intoArray(t, 7 * NR + L);
    }

    /** C[MR × NR tile at co] = (C +) t. */
    private static void mergeTile(float[] t, float[] c, int co, int ldc, boolean add) {
        for (int r = 0; r < MR; r++, co += ldc) {
            FloatVector v0 = FloatVector.fromArray(S, t, r * NR);
            FloatVector v1 = FloatVector.fromArray(S, t, r * NR + L);
            if (add) {
                v0 = v0.add(FloatVector.fromArray(S, c, co));
                v1 = v1.add(FloatVector.fromArray(S, c, co + L));
            }
            v0.intoArray(c, co);
            v1.intoArray(c, co + L);
        }
    }
}
