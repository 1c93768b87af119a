package dev.shrink4j.quantize;

import dev.shrink4j.tensors.Parallel;
import dev.shrink4j.tensors.formats.UniformGrid;
import dev.shrink4j.tensors.kernels.Kernels;
import dev.shrink4j.tensors.linalg.NotPositiveDefiniteException;
import dev.shrink4j.tensors.linalg.Spd;
import java.util.Arrays;
import java.util.logging.Logger;

/**
 * LNQ, docs/methods/guidedquant-lnq.md §5: per row minimise f(c, P) = (w − Pc)ᵀ H (w − Pc) over a codebook c and one-hot
 * assignments P, alternating the exact C-step (docs/methods/guidedquant-lnq.md §5.3) and cyclic coordinate descent on P (docs/methods/guidedquant-lnq.md §5.4),
 * from SqueezeLLM's assignment (docs/methods/guidedquant-lnq.md §5.1), keeping the best iterate (docs/methods/guidedquant-lnq.md §5.5).
 *
 * <p>The CD state is held transposed, (d_in, d_out): coordinate i of every row is one contiguous row,
 * so the nearest-centroid search and the in-block updates run across rows.
 */
public final class Lnq {
    private static final Logger LOG = Logger.getLogger(Lnq.class.getName());
    /**
     * The C-step's pass over H (see {@code sums}): columns of H in chunks of COL_CHUNK, packed
     * contiguously in fp32; rows of W in tiles of ROW_TILE; the H rows of a chunk in blocks of L_BLOCK,
     * so a block (L_BLOCK·COL_CHUNK floats, 32 KiB) stays in cache while the tile's rows take turns on
     * it, each adding into its own partial sums (2^b·COL_CHUNK doubles). A chunk of 128 keeps the
     * inner add loop long enough for C2 to run it vectorised.
     */
    private static final int COL_CHUNK = 128;
    private static final int ROW_TILE = 32;
    private static final int L_BLOCK = 64;

    /**
     * The result and its history.
     *
     * @param trace    the monitored objective f_λ (docs/methods/guidedquant-lnq.md §5.6) summed over rows after the initial C-step,
     *                 then after every CD sweep and every C-step, in order
     * @param fBefore  f of the initial (SqueezeLLM) assignment and codebook
     * @param fAfter   f of the returned codes and codebook (before fp16 rounding of the LUT)
     * @param fellBack true when H could not be damped into positive definiteness and the init is returned
     */
    public record Result(LutCodes quantized, double[] trace, double fBefore, double fAfter, double damp,
                         boolean fellBack) {}

    private Lnq() {}

    /**
     * @param w    (d_out, d_in) weight; not modified
     * @param h    (d_in, d_in) symmetric H (XᵀX/n, or a guided H̄ₖ); not modified
     * @param init SqueezeLLM's result on the same rows (docs/methods/guidedquant-lnq.md §5.1)
     */
    public static Result quantize(float[] w, double[] h, int dOut, int dIn, LutCodes init, LnqOptions o) {
        int m = 1 << o.bits();
        if (init.bits() != o.bits() || init.dOut() != dOut || init.dIn() != dIn) {
            throw new IllegalArgumentException("LNQ init does not match the layer");
        }
        // docs/methods/guidedquant-lnq.md §5.2: undamped first, then δ = 10⁻⁵ ×10 per failure; past δ = 1 keep SqueezeLLM's result.
        double damp;
        double[] hd;
        try {
            damp = dev.shrink4j.tensors.linalg.Damping.factor(h, dIn, dev.shrink4j.tensors.linalg.Damping.Factor.UPPER,
                    dev.shrink4j.tensors.linalg.Damping.Policy.LNQ).delta();
            hd = damp == 0 ? h : Damping.damped(h, dIn, damp);
        } catch (NotPositiveDefiniteException e) {
            LOG.warning("LNQ: H not positive definite with damping up to 1; keeping the SqueezeLLM result");
            double f0 = objective(w, h, dOut, dIn, init.codes(), toDouble(init.lut()), m, init.groupSize());
            return new Result(init, new double[] {f0}, f0, f0, Double.NaN, true);
        }
        double lambda = o.ridge() * Damping.meanDiag(hd, dIn);
        State s = new State(w, hd, dOut, dIn, m, lambda, init);
        double[] trace = new double[1 + o.iterations() * (o.sweeps() + 1)];
        int t = 0;
        double fBefore = s.cStep(false);
        trace[t++] = s.total(true);
        double best = s.total(false);
        s.saveBest();
        for (int it = 1; it <= o.iterations(); it++) {
            for (int k = 0; k < o.sweeps(); k++) {
                s.sweep(o.blockSize());
                s.cStep(true); // evaluates f_λ at (c_old, P_new) without moving c
                trace[t++] = s.total(true);
            }
            s.cStep(false);
            trace[t++] = s.total(true);
            double f = s.total(false);
            if (!(f < best)) break; // docs/methods/guidedquant-lnq.md §5.5: no improvement → restore the best and stop
            best = f;
            s.saveBest();
        }
        s.restoreBest();
        return new Result(s.export(o.bits()), Arrays.copyOf(trace, t), fBefore, best, damp, false);
    }

    /** f summed over rows for given codes and codebooks, (d_out, n_groups, m) in fp64. */
    static double objective(float[] w, double[] h, int dOut, int dIn, byte[] codes, double[] cb, int m, int groupSize) {
        double total = 0;
        double[] e = new double[dIn];
        int ng = LutCodes.groups(dIn, groupSize);
        for (int j = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) e[i] = cb[(j * ng + i / groupSize) * m + (codes[j * dIn + i] & 0xFF)] - w[j * dIn + i];
            total += LayerError.quadratic(e, h, dIn);
        }
        return total;
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    /** The working state of one layer (or one guided group of rows). */
    private static final class State {
        final int dOut, dIn, m;
        /** Input columns per codebook, codebooks per row; a row's codebooks are ng·m entries. */
        final int gs, ng;
        final double lambda;
        final double[] h;     // (d_in, d_in) damped H
        final float[] hf;     // (d_in, d_in) H in fp32 for the C-step passes
        final float[] ht;     // (d_in, d_in) H̃ = H·diag(H)⁻¹, H̃[l][i] = H_li / H_ii
        final float[] wt;     // (d_in, d_out) Wᵀ
        final float[] w;      // (d_out, d_in)
        final byte[] codesT;  // (d_in, d_out) current assignment
        final double[] cb;    // (d_out, ng, m) current codebooks
        final float[] hw;     // (d_out, d_in) rows (H w_j)ᵀ, fixed for the whole run
        final double[] whw;   // (d_out) w_jᵀ H w_j
        final double[] fRow;  // (d_out) f per row after the last C-step evaluation
        final double[] regRow; // (d_out) λ‖c‖² per row
        final double[] php;   // (d_out, m, m) PᵀHP of the current assignment (one codebook per row)
        final double[] phw;   // (d_out, m) PᵀHw of the current assignment
        /** Whether php and phw belong to the current codes (an evaluation and the C-step after it share them). */
        boolean sumsCurrent;
        byte[] bestCodesT;
        double[] bestCb;

        State(float[] w, double[] h, int dOut, int dIn, int m, double lambda, LutCodes init) {
            this.w = w;
            this.h = h;
            this.dOut = dOut;
            this.dIn = dIn;
            this.m = m;
            this.lambda = lambda;
            this.gs = init.groupSize();
            this.ng = init.nGroups();
            hf = Gptq.toFloat(h);
            ht = new float[dIn * dIn];
            for (int l = 0; l < dIn; l++) {
                for (int i = 0; i < dIn; i++) ht[l * dIn + i] = (float) (h[l * dIn + i] / h[i * dIn + i]);
            }
            wt = new float[dIn * dOut];
            codesT = new byte[dIn * dOut];
            for (int j = 0; j < dOut; j++) {
                for (int i = 0; i < dIn; i++) {
                    wt[i * dOut + j] = w[j * dIn + i];
                    codesT[i * dOut + j] = init.codes()[j * dIn + i];
                }
            }
            cb = toDouble(init.lut());
            hw = new float[dOut * dIn];
            Kernels.get().gemmABt(dOut, dIn, dIn, w, 0, dIn, hf, 0, dIn, hw, 0, dIn, false); // W·H (H symmetric)
            whw = new double[dOut];
            for (int j = 0; j < dOut; j++) {
                double sum = 0;
                for (int i = 0; i < dIn; i++) sum += (double) w[j * dIn + i] * hw[j * dIn + i];
                whw[j] = sum;
            }
            fRow = new double[dOut];
            regRow = new double[dOut];
            php = ng == 1 ? new double[dOut * m * m] : null;
            phw = ng == 1 ? new double[dOut * m] : null;
        }

        double total(boolean regularised) {
            double s = 0;
            for (int j = 0; j < dOut; j++) s += fRow[j] + (regularised ? regRow[j] : 0);
            return s;
        }

        /**
         * docs/methods/guidedquant-lnq.md §5.3 C-step: c = (PᵀHP + λI)⁻¹ PᵀHw per row, from PᵀHP and PᵀHw of the current assignment
         * ({@link #sums()}, computed once per assignment), which also yield f at the current codebook.
         * With {@code evaluateOnly} the codebook stays and only f(c, P) is recorded.
         *
         * @return Σ f over rows before the update
         */
        double cStep(boolean evaluateOnly) {
            if (ng > 1) return cStepGrouped(evaluateOnly);
            if (!sumsCurrent) {
                sums();
                sumsCurrent = true;
            }
            double[] before = new double[dOut];
            int chunks = Math.min(dOut, 4 * Parallel.threads());
            Parallel.forEach(chunks, chunk -> {
                double[] sys = new double[m * m];
                double[] rhs = new double[m];
                for (int j = (int) ((long) dOut * chunk / chunks); j < (long) dOut * (chunk + 1) / chunks; j++) {
                    before[j] = quad(whw[j], j, cb, j * m);
                    if (evaluateOnly) {
                        fRow[j] = before[j];
                        continue;
                    }
                    System.arraycopy(php, j * m * m, sys, 0, m * m);
                    for (int k = 0; k < m; k++) {
                        sys[k * m + k] += lambda;
                        rhs[k] = phw[j * m + k];
                    }
                    try {
                        System.arraycopy(Spd.solve(sys, m, rhs, 1), 0, cb, j * m, m);
                    } catch (NotPositiveDefiniteException e) {
                        // singular only with λ = 0 and an unused code: keep c
                    }
                    fRow[j] = quad(whw[j], j, cb, j * m);
                    double reg = 0;
                    for (int k = 0; k < m; k++) reg += cb[j * m + k] * cb[j * m + k];
                    regRow[j] = lambda * reg;
                }
            });
            double s = 0;
            for (double b : before) s += b;
            return s;
        }

        /**
         * PᵀHP and PᵀHw of every row for the current codes. HP (d_in × m, H's columns summed by code)
         * is built one chunk of COL_CHUNK columns i at a time by adding whole H row segments
         * H[l, chunk] into the partial sum of code c_l (contiguous vector adds instead of one scatter
         * per element), then PᵀHP[k, ·] += HP[i, ·] for the chunk's columns i with code k. H is
         * symmetric, so only its lower triangle (l > i, and half the diagonal) is summed, into S; then
         * PᵀHP = S + Sᵀ.
         */
        private void sums() {
            int mm = m * m, tiles = (dOut + ROW_TILE - 1) / ROW_TILE;
            byte[] a = new byte[dOut * dIn]; // codes, row-major
            Parallel.forEach(tiles, tile -> {
                for (int j = tile * ROW_TILE; j < Math.min(dOut, (tile + 1) * ROW_TILE); j++) {
                    for (int i = 0; i < dIn; i++) a[j * dIn + i] = codesT[i * dOut + j];
                }
            });
            double[] half = new double[dOut * mm]; // PᵀHP = half + halfᵀ
            double[][] hp = new double[tiles][];
            float[] hc = new float[dIn * COL_CHUNK]; // the chunk's lower part of H (fp32), packed
            for (int i0 = 0; i0 < dIn; i0 += COL_CHUNK) {
                int c0 = i0, wc = Math.min(COL_CHUNK, dIn - i0); // c0: i0 for the lambda below
                // hc[(l − i0)·COL_CHUNK + x] = H[l, i0 + x] for l > i0 + x, H_ii/2 on the diagonal, 0 above it
                for (int l = i0; l < dIn; l++) {
                    int d = l - i0, o = d * COL_CHUNK;
                    System.arraycopy(hf, l * dIn + i0, hc, o, wc);
                    if (d < wc) {
                        hc[o + d] *= 0.5f;
                        Arrays.fill(hc, o + d + 1, o + wc, 0);
                    }
                }
                Parallel.forEach(tiles, tile -> {
                    int j0 = tile * ROW_TILE, rows = Math.min(dOut, j0 + ROW_TILE) - j0;
                    if (hp[tile] == null) hp[tile] = new double[rows * m * COL_CHUNK];
                    addSegments(hp[tile], a, hc, j0, rows, c0, wc);
                    reduce(hp[tile], a, j0, rows, c0, wc, half);
                });
            }
            Parallel.forEach(tiles, tile -> {
                for (int j = tile * ROW_TILE; j < Math.min(dOut, (tile + 1) * ROW_TILE); j++) {
                    int t = j * mm;
                    for (int k = 0; k < m; k++) {
                        for (int k2 = 0; k2 < m; k2++) php[t + k * m + k2] = half[t + k * m + k2] + half[t + k2 * m + k];
                    }
                    Arrays.fill(phw, j * m, (j + 1) * m, 0);
                    for (int i = 0; i < dIn; i++) phw[j * m + (a[j * dIn + i] & 0xFF)] += hw[j * dIn + i];
                }
            });
        }

        /**
         * hp[r, c, x] = Σ H[l, i0 + x] over l ∈ [i0, d_in) with code c in row j0 + r (hp zeroed first);
         * hc holds H[l, i0 + x] at (l − i0)·COL_CHUNK + x.
         */
        private void addSegments(double[] hp, byte[] a, float[] hc, int j0, int rows, int i0, int wc) {
            Arrays.fill(hp, 0);
            for (int lb = i0; lb < dIn; lb += L_BLOCK) {
                int le = Math.min(dIn, lb + L_BLOCK);
                for (int r = 0; r < rows; r++) {
                    int ar = (j0 + r) * dIn, hr = r * m * COL_CHUNK;
                    for (int l = lb; l < le; l++) {
                        int o = hr + (a[ar + l] & 0xFF) * COL_CHUNK, s = (l - i0) * COL_CHUNK;
                        for (int x = 0; x < wc; x++) hp[o + x] += hc[s + x];
                    }
                }
            }
        }

        /** acc[j0 + r, c_i, ·] += hp[r, ·, i − i0] for the chunk's columns i. */
        private void reduce(double[] hp, byte[] a, int j0, int rows, int i0, int wc, double[] acc) {
            for (int r = 0; r < rows; r++) {
                int hr = r * m * COL_CHUNK, ar = (j0 + r) * dIn;
                for (int x = 0; x < wc; x++) {
                    int base = ((j0 + r) * m + (a[ar + i0 + x] & 0xFF)) * m;
                    for (int k2 = 0; k2 < m; k2++) acc[base + k2] += hp[hr + k2 * COL_CHUNK + x];
                }
            }
        }

        /**
         * The C-step with one codebook per (row, group of gs columns): per row, cyclically over the
         * groups, the exact minimiser of f_λ over that group's 2^b entries with every other codebook
         * and all codes fixed — (P_gᵀ H_gg P_g + λI) Δ = −(P_gᵀ r_g + λ c_g) with r = H(Pc − w), then
         * r += H[:, g]·P_g Δ. Each group solve cannot increase f_λ, so neither can the step. Cost per
         * row O(d_in²), as the per-row step; memory O(d_in + m²).
         */
        private double cStepGrouped(boolean evaluateOnly) {
            int M = ng * m;
            double[] before = new double[dOut];
            int chunks = Math.min(dOut, 4 * Parallel.threads());
            Parallel.forEach(chunks, chunk -> {
                double[] e = new double[dIn];
                double[] r = new double[dIn];
                int[] code = new int[dIn];
                double[] sys = new double[m * m];
                double[] rhs = new double[m];
                for (int j = (int) ((long) dOut * chunk / chunks); j < (long) dOut * (chunk + 1) / chunks; j++) {
                    for (int i = 0; i < dIn; i++) {
                        code[i] = codesT[i * dOut + j] & 0xFF;
                        e[i] = cb[j * M + (i / gs) * m + code[i]] - w[j * dIn + i];
                    }
                    for (int l = 0; l < dIn; l++) {
                        double sum = 0;
                        for (int i = 0; i < dIn; i++) sum += hf[l * dIn + i] * e[i];
                        r[l] = sum;
                    }
                    before[j] = Math.max(0, dot(e, r));
                    if (evaluateOnly) {
                        fRow[j] = before[j];
                        continue;
                    }
                    for (int g = 0; g < ng; g++) {
                        int i0 = g * gs, i1 = Math.min(dIn, i0 + gs), c0 = j * M + g * m;
                        Arrays.fill(sys, 0);
                        for (int k = 0; k < m; k++) {
                            sys[k * m + k] = lambda;
                            rhs[k] = lambda * cb[c0 + k];
                        }
                        for (int i = i0; i < i1; i++) {
                            int base = code[i] * m;
                            rhs[code[i]] += r[i];
                            for (int l = i0; l < i1; l++) sys[base + code[l]] += hf[i * dIn + l];
                        }
                        double[] step;
                        try {
                            step = Spd.solve(sys.clone(), m, rhs.clone(), 1);
                        } catch (NotPositiveDefiniteException ex) {
                            continue; // singular only with λ = 0 and an unused code: keep c_g
                        }
                        for (int k = 0; k < m; k++) cb[c0 + k] -= step[k];
                        for (int i = i0; i < i1; i++) {
                            double de = -step[code[i]];
                            if (de == 0) continue;
                            e[i] += de;
                            int hi = i * dIn;
                            for (int l = 0; l < dIn; l++) r[l] += hf[hi + l] * de; // H symmetric
                        }
                    }
                    fRow[j] = Math.max(0, dot(e, r));
                    double reg = 0;
                    for (int k = 0; k < M; k++) reg += cb[j * M + k] * cb[j * M + k];
                    regRow[j] = lambda * reg;
                }
            });
            double s = 0;
            for (double b : before) s += b;
            return s;
        }

        private static double dot(double[] a, double[] b) {
            double s = 0;
            for (int i = 0; i < a.length; i++) s += a[i] * b[i];
            return s;
        }

        /** f = wᵀHw − 2cᵀPᵀHw + cᵀPᵀHPc for row j. */
        private double quad(double whw, int j, double[] c, int cOff) {
            double lin = 0, q = 0;
            for (int k = 0; k < m; k++) {
                lin += c[cOff + k] * phw[j * m + k];
                double row = 0;
                for (int k2 = 0; k2 < m; k2++) row += php[(j * m + k) * m + k2] * c[cOff + k2];
                q += c[cOff + k] * row;
            }
            return Math.max(0, whw - 2 * lin + q);
        }

        /** docs/methods/guidedquant-lnq.md §5.4: one cyclic CD sweep over all coordinates with lazy blocks. */
        void sweep(int bs) {
            sumsCurrent = false;
            Kernels kernels = Kernels.get();
            int M = ng * m;
            float[] cbt = new float[M * dOut]; // (ng·m, d_out) codebooks transposed
            for (int j = 0; j < dOut; j++) {
                for (int k = 0; k < M; k++) cbt[k * dOut + j] = (float) cb[j * M + k];
            }
            float[] et = new float[dIn * dOut]; // (d_in, d_out) E = Ŵ − W
            for (int i = 0; i < dIn; i++) {
                for (int j = 0; j < dOut; j++) {
                    et[i * dOut + j] = cbt[((i / gs) * m + (codesT[i * dOut + j] & 0xFF)) * dOut + j] - wt[i * dOut + j];
                }
            }
            // R[:, i] = Σ_{l>i} E[:, l] H̃_li, block by block: later blocks by GEMM, own block by hand.
            float[] rt = new float[dIn * dOut];
            for (int i1 = 0; i1 < dIn; i1 += bs) {
                int i2 = Math.min(dIn, i1 + bs);
                if (i2 < dIn) {
                    // rt[i1:i2] += H̃[i2:, i1:i2]ᵀ · E[i2:]
                    kernels.gemmAtB(i2 - i1, dOut, dIn - i2, ht, i2 * dIn + i1, dIn, et, i2 * dOut, dOut, rt, i1 * dOut, dOut, true);
                }
                for (int i = i1; i < i2; i++) {
                    for (int l = i + 1; l < i2; l++) kernels.axpy(dOut, ht[l * dIn + i], et, l * dOut, rt, i * dOut);
                }
            }
            float[] best = new float[dOut];
            for (int i1 = 0; i1 < dIn; i1 += bs) {
                int i2 = Math.min(dIn, i1 + bs);
                for (int i = i1; i < i2; i++) {
                    int row = i * dOut;
                    int cbase = (i / gs) * m; // column i's codebook
                    // ŵ_i ← nearest_c(w_i − R[:, i]) per row; keep the current code unless strictly nearer.
                    for (int j = 0; j < dOut; j++) {
                        float target = wt[row + j] - rt[row + j];
                        int cur = codesT[row + j] & 0xFF;
                        best[j] = Math.abs(target - cbt[(cbase + cur) * dOut + j]);
                    }
                    for (int k = 0; k < m; k++) {
                        int ck = (cbase + k) * dOut;
                        for (int j = 0; j < dOut; j++) {
                            float d = Math.abs(wt[row + j] - rt[row + j] - cbt[ck + j]);
                            if (d < best[j]) {
                                best[j] = d;
                                codesT[row + j] = (byte) k;
                            }
                        }
                    }
                    for (int j = 0; j < dOut; j++) {
                        et[row + j] = cbt[(cbase + (codesT[row + j] & 0xFF)) * dOut + j] - wt[row + j];
                    }
                    // R[:, i+1:i₂] += E[:, i] ⊗ H̃[i, i+1:i₂]
                    for (int k = i + 1; k < i2; k++) kernels.axpy(dOut, ht[i * dIn + k], et, row, rt, k * dOut);
                }
                if (i2 < dIn) {
                    // R[:, i₂:] += E[:, block]·H̃[block, i₂:]
                    kernels.gemmAtB(dIn - i2, dOut, i2 - i1, ht, i1 * dIn + i2, dIn, et, i1 * dOut, dOut, rt, i2 * dOut, dOut, true);
                }
            }
        }

        void saveBest() {
            bestCodesT = codesT.clone();
            bestCb = cb.clone();
        }

        void restoreBest() {
            sumsCurrent = false;
            System.arraycopy(bestCodesT, 0, codesT, 0, codesT.length);
            System.arraycopy(bestCb, 0, cb, 0, cb.length);
        }

        /** Codes back to (d_out, d_in), codebooks rounded to fp16 (docs/methods/guidedquant-lnq.md §5.7). */
        LutCodes export(int bits) {
            byte[] codes = new byte[dOut * dIn];
            for (int i = 0; i < dIn; i++) {
                for (int j = 0; j < dOut; j++) codes[j * dIn + i] = codesT[i * dOut + j];
            }
            float[] lut = new float[dOut * ng * m];
            for (int k = 0; k < lut.length; k++) lut[k] = UniformGrid.toF16Signed((float) cb[k]);
            return new LutCodes(dOut, dIn, bits, gs, codes, lut);
        }
    }

}
