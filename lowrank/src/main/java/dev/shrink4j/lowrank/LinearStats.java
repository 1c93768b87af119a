package dev.shrink4j.lowrank;

import dev.shrink4j.model.InputStatistics;

/**
 * Calibration statistics of one linear's input, accumulated chunk by chunk (observe → compress):
 * H = XᵀX/n (docs/methods/pipeline.md §3, through the model's {@link InputStatistics}) for the whitened variants and
 * mean |X_ti| per channel for ASVD (docs/methods/lowrank-lost.md §3). Only what the method asks for is kept; H costs d_in²
 * doubles.
 */
public final class LinearStats {
    private final int dIn;
    private final InputStatistics gram; // null when not needed
    private final double[] absSum; // (dIn) Σ |x|; null when not needed
    private long tokens;

    public LinearStats(int dIn, boolean gram, boolean meanAbs) {
        this.dIn = dIn;
        this.gram = gram ? new InputStatistics(dIn) : null;
        this.absSum = meanAbs ? new double[dIn] : null;
    }

    /** Statistics for what {@code method} needs. */
    public static LinearStats forMethod(LowRankMethod method, int dIn) {
        return new LinearStats(dIn, method.needsGram(), method.needsMeanAbs());
    }

    public int dIn() {
        return dIn;
    }

    public long tokens() {
        return tokens;
    }

    /** @param x (n, dIn) row-major activations, one row per token */
    public void observe(float[] x, int n) {
        if ((long) n * dIn > x.length) throw new IllegalArgumentException("x holds fewer than " + n + " rows of " + dIn);
        if (gram != null) gram.add(x, n);
        if (absSum != null) {
            for (int t = 0; t < n; t++) {
                int base = t * dIn;
                for (int i = 0; i < dIn; i++) absSum[i] += Math.abs(x[base + i]);
            }
        }
        tokens += n;
    }

    /** H = XᵀX/n as a full symmetric (dIn, dIn) array; null if not collected. */
    public double[] gram() {
        return gram == null ? null : gram.hessian();
    }

    /** mean_t |X_ti| (dIn); null if not collected. */
    public double[] meanAbs() {
        if (absSum == null) return null;
        double[] m = new double[dIn];
        for (int i = 0; i < dIn; i++) m[i] = tokens == 0 ? 0 : absSum[i] / tokens;
        return m;
    }
}
