package dev.shrink4j.lowrank;

/**
 * Calibration statistics of one linear's input, accumulated batch by batch (observe → compress):
 * H = XᵀX/n (§1.3) for the whitened variants and mean |X_ti| per channel for ASVD (§2.9). Only
 * what the method asks for is kept; H costs d_in² doubles.
 */
public final class LinearStats {
    private final int dIn;
    private final double[] gram; // (dIn, dIn) Σ x xᵀ, upper triangle until read; null when not needed
    private final double[] absSum; // (dIn) Σ |x|; null when not needed
    private long tokens;

    public LinearStats(int dIn, boolean gram, boolean meanAbs) {
        this.dIn = dIn;
        this.gram = gram ? new double[dIn * dIn] : null;
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
        if (gram != null) {
            // Rank-1 updates of the upper triangle; per-token sums in fp32 would lose the small channels.
            for (int t = 0; t < n; t++) {
                int base = t * dIn;
                for (int i = 0; i < dIn; i++) {
                    double xi = x[base + i];
                    if (xi == 0) continue;
                    int row = i * dIn;
                    for (int j = i; j < dIn; j++) gram[row + j] += xi * x[base + j];
                }
            }
        }
        if (absSum != null) {
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < dIn; i++) absSum[i] += Math.abs(x[t * dIn + i]);
            }
        }
        tokens += n;
    }

    /** H = XᵀX/n as a full symmetric (dIn, dIn) array; null if not collected. */
    public double[] gram() {
        if (gram == null) return null;
        double[] h = new double[dIn * dIn];
        double scale = tokens == 0 ? 0 : 1.0 / tokens;
        for (int i = 0; i < dIn; i++) {
            for (int j = i; j < dIn; j++) {
                double v = gram[i * dIn + j] * scale;
                h[i * dIn + j] = v;
                h[j * dIn + i] = v;
            }
        }
        return h;
    }

    /** mean_t |X_ti| (dIn); null if not collected. */
    public double[] meanAbs() {
        if (absSum == null) return null;
        double[] m = new double[dIn];
        for (int i = 0; i < dIn; i++) m[i] = tokens == 0 ? 0 : absSum[i] / tokens;
        return m;
    }
}
