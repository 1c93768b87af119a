package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.linalg.Matrices;
import dev.shrink4j.tensors.linalg.Svd;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * docs/methods/lowrank-lost.md §4–§8 LOST decomposition: the top-r SVD factors plus a channel-sparse complement, c = max(1, ⌊ρ·d_in⌋)
 * whole input columns. {@link Options#compression()} is the docs/methods/lowrank-lost.md §6 post-training default
 * (Ŵ = W_r + (W − W_r)[:, I], k = all, values = complement, L2 scores);
 * {@link Options#training(double)} is the paper's parameterisation for docs/methods/lowrank-lost.md §7 (a window of k = 256
 * components for the scores, values copied from W, blend γ).
 */
public final class Lost {
    /** How the kept columns are scored (docs/methods/lowrank-lost.md §4 step 4). */
    public enum Selection { L2, L1, RANDOM }

    /** Where W_s comes from (docs/methods/lowrank-lost.md §4 step 5). */
    public enum Values { COMPLEMENT, ORIGINAL }

    /**
     * @param rho       share of input channels kept (c = max(1, ⌊ρ·d_in⌋))
     * @param window    k: components r+1..r+k form W_c; 0 means k = all (W_c = W − W_r)
     * @param values    W_s from the complement or from the original W
     * @param selection column scoring
     * @param gamma     blend γ of docs/methods/lowrank-lost.md §4 step 6; 1 folds it away (compression)
     * @param seed      for {@link Selection#RANDOM}
     */
    public record Options(double rho, int window, Values values, Selection selection, double gamma, long seed) {
        public Options {
            if (window < 0) throw new IllegalArgumentException("window must be ≥ 0 (0 = all)");
            if (!(gamma > 0 && gamma <= 1)) throw new IllegalArgumentException("gamma must be in (0, 1]");
        }

        /** docs/methods/lowrank-lost.md §6 defaults: ρ = 0.05, k = all, values = complement, L2, γ folded. */
        public static Options compression() {
            return new Options(Budgets.DEFAULT_RHO, 0, Values.COMPLEMENT, Selection.L2, 1, 0);
        }

        /** docs/methods/lowrank-lost.md §4 as the authors' training code: k = 256, values = W[:, I], blend γ (default 0.5). */
        public static Options training(double gamma) {
            return new Options(Budgets.DEFAULT_RHO, 256, Values.ORIGINAL, Selection.L2, gamma, 0);
        }

        public Options withRho(double newRho) {
            return new Options(newRho, window, values, selection, gamma, seed);
        }

        double lowRankScale() {
            return gamma;
        }

        double sparseScale() {
            return gamma == 1 ? 1 : 1 - gamma;
        }
    }

    private final SvdSolver svd;
    private final Options options;

    public Lost(SvdSolver svd, Options options) {
        this.svd = svd;
        this.options = options;
    }

    public Lost(Options options) {
        this(SvdSolver.standard(), options);
    }

    public Options options() {
        return options;
    }

    /** Decomposes W at a parameter ratio P: c from ρ, then r the largest rank that fits (docs/methods/lowrank-lost.md §5). */
    public LostDecomposition decompose(float[] w, int dOut, int dIn, double paramsRatio) {
        int c = Budgets.lostColumns(dIn, options.rho());
        return decompose(w, dOut, dIn, Budgets.lostRank(dOut, dIn, paramsRatio, c), c);
    }

    /**
     * @param w (dOut, dIn) row-major; not modified
     */
    public LostDecomposition decompose(float[] w, int dOut, int dIn, int rank, int columns) {
        Budgets.checkRank(rank, dOut, dIn);
        if (columns < 1 || columns > dIn) throw new IllegalArgumentException("columns " + columns + " outside [1, " + dIn + "]");
        int full = Math.min(dOut, dIn);
        int window = rank >= full ? 0 : options.window() == 0 ? full - rank : Math.min(options.window(), full - rank);
        boolean all = options.window() == 0 || rank >= full;
        double[] wd = Dense.toDouble(w);
        // k = all needs only the rank-r triplets (docs/methods/lowrank-lost.md §4 step 1); a window needs r + k.
        Svd t = svd.leading(wd, dOut, dIn, all ? rank : rank + window);
        int from = rank, to = all ? rank : rank + window; // complement components when windowed
        double[] scores = scores(wd, dOut, dIn, t, rank, all, from, to);
        int[] keep = select(scores, columns);
        // Σ_{i in components} σ_i u_i V_{I,i}ᵀ as one (dOut, r')·(r', c) GEMM: the rank-r part to subtract
        // (k = all) or the window W_c itself.
        double[] part = options.values() == Values.ORIGINAL ? null : all ? components(t, 0, rank, keep) : components(t, from, to, keep);
        float[] vals = new float[dOut * columns];
        for (int k = 0; k < columns; k++) {
            int j = keep[k];
            for (int o = 0; o < dOut; o++) {
                double v = part == null ? wd[o * dIn + j] : all ? wd[o * dIn + j] - part[o * columns + k] : part[o * columns + k];
                vals[o * columns + k] = (float) v;
            }
        }
        Svd head = t.truncate(rank);
        LowRankFactors lr = LowRankFactors.split(head, head.vt(), dIn);
        return new LostDecomposition(lr, keep, vals, options.lowRankScale(), options.sparseScale());
    }

    /**
     * Activation-aware LOST (docs/methods/lowrank-lost.md §6 option, a shrink4j extension): W_r from the whitened SVD (docs/methods/lowrank-lost.md §2) and
     * columns scored by ‖(W − W_r)[:, j]‖·‖X[:, j]‖ (Wanda-style; ‖X[:, j]‖ ∝ √H_jj).
     *
     * @param w (dOut, dIn) row-major; not modified
     * @param h (dIn, dIn) XᵀX at any scale
     */
    public LostDecomposition decomposeWhitened(float[] w, int dOut, int dIn, double[] h, int rank, int columns, double damp) {
        LowRankFactors white = new WhitenedSvd(svd, damp).compress(w, dOut, dIn, h, rank).factors();
        return complement(w, white, channelNorms(h, dIn), columns);
    }

    /** ‖X[:, j]‖ up to a common scale: √H_jj. */
    public static double[] channelNorms(double[] h, int dIn) {
        double[] n = new double[dIn];
        for (int j = 0; j < dIn; j++) n[j] = Math.sqrt(Math.max(0, h[j * dIn + j]));
        return n;
    }

    /**
     * The column-sparse complement of any given low-rank part (k = all): columns scored by the
     * residual's column norm (L2 or L1 per the options) times {@code channelWeight[j]}, values from
     * the residual or from W per the options.
     *
     * @param w             (dOut, dIn) row-major; not modified
     * @param channelWeight (dIn) per-input-channel multiplier of the scores, null for none
     */
    public LostDecomposition complement(float[] w, LowRankFactors lowRank, double[] channelWeight, int columns) {
        int dOut = lowRank.dOut(), dIn = lowRank.dIn();
        float[] approx = lowRank.reconstruct();
        double[] scores = new double[dIn];
        if (options.selection() == Selection.RANDOM) {
            SplittableRandom rng = new SplittableRandom(options.seed());
            for (int j = 0; j < dIn; j++) scores[j] = rng.nextDouble();
        } else {
            for (int j = 0; j < dIn; j++) {
                double ss = 0;
                for (int o = 0; o < dOut; o++) {
                    double r = (double) w[o * dIn + j] - approx[o * dIn + j];
                    ss += options.selection() == Selection.L1 ? Math.abs(r) : r * r;
                }
                double norm = options.selection() == Selection.L1 ? ss : Math.sqrt(ss);
                scores[j] = channelWeight == null ? norm : norm * channelWeight[j];
            }
        }
        int[] keep = select(scores, columns);
        float[] vals = new float[dOut * columns];
        for (int k = 0; k < columns; k++) {
            int j = keep[k];
            for (int o = 0; o < dOut; o++) {
                vals[o * columns + k] = options.values() == Values.ORIGINAL ? w[o * dIn + j] : w[o * dIn + j] - approx[o * dIn + j];
            }
        }
        return new LostDecomposition(lowRank, keep, vals, options.lowRankScale(), options.sparseScale());
    }

    /** Per-column scores of W_c (docs/methods/lowrank-lost.md §4 step 4), without forming W_c for L2. */
    private double[] scores(double[] w, int dOut, int dIn, Svd t, int rank, boolean all, int from, int to) {
        double[] score = new double[dIn];
        switch (options.selection()) {
            case RANDOM -> {
                SplittableRandom rng = new SplittableRandom(options.seed());
                for (int j = 0; j < dIn; j++) score[j] = rng.nextDouble();
            }
            case L2 -> {
                for (int j = 0; j < dIn; j++) {
                    double s = 0;
                    if (all) {
                        // ‖(W − W_r)[:, j]‖² = ‖W[:, j]‖² − Σ_{i≤r} σ_i² V_ji²
                        for (int o = 0; o < dOut; o++) s += w[o * dIn + j] * w[o * dIn + j];
                        for (int i = 0; i < rank; i++) s -= sq(t.s()[i] * t.vt()[i * dIn + j]);
                        s = Math.max(0, s);
                    } else {
                        for (int i = from; i < to; i++) s += sq(t.s()[i] * t.vt()[i * dIn + j]);
                    }
                    score[j] = s;
                }
            }
            case L1 -> {
                for (int j = 0; j < dIn; j++) {
                    double s = 0;
                    for (int o = 0; o < dOut; o++) {
                        s += Math.abs(all ? w[o * dIn + j] - partial(t, o, j, 0, rank) : partial(t, o, j, from, to));
                    }
                    score[j] = s;
                }
            }
        }
        return score;
    }

    /** (dOut, c): column k is Σ_{i in [from, to)} σ_i·u_i·V[cols[k], i]. */
    private static double[] components(Svd t, int from, int to, int[] cols) {
        int r = t.k(), n = t.n(), m = t.m(), w = to - from, c = cols.length;
        if (w == 0) return new double[m * c];
        double[] us = new double[m * w]; // (m, w) U·Σ over the components
        for (int o = 0; o < m; o++) {
            for (int i = 0; i < w; i++) us[o * w + i] = t.u()[o * r + from + i] * t.s()[from + i];
        }
        double[] vt = new double[w * c]; // (w, c) Vᵀ restricted to the kept columns
        for (int i = 0; i < w; i++) {
            for (int k = 0; k < c; k++) vt[i * c + k] = t.vt()[(from + i) * n + cols[k]];
        }
        return Matrices.multiply(us, false, vt, false, m, c, w);
    }

    /** Σ_{i in [from, to)} σ_i·u_oi·v_ji. */
    private static double partial(Svd t, int o, int j, int from, int to) {
        int r = t.k(), n = t.n();
        double s = 0;
        for (int i = from; i < to; i++) s += t.s()[i] * t.u()[o * r + i] * t.vt()[i * n + j];
        return s;
    }

    /** The top {@code c} scores (ties to the lower index), returned ascending. */
    static int[] select(double[] score, int c) {
        Integer[] order = new Integer[score.length];
        for (int j = 0; j < order.length; j++) order[j] = j;
        Arrays.sort(order, (x, y) -> score[x] != score[y] ? Double.compare(score[y], score[x]) : Integer.compare(x, y));
        int[] keep = new int[c];
        for (int k = 0; k < c; k++) keep[k] = order[k];
        Arrays.sort(keep);
        return keep;
    }

    private static double sq(double x) {
        return x * x;
    }
}
