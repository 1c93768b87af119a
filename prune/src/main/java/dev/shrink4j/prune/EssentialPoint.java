package dev.shrink4j.prune;

/**
 * Detection of the essential-sparsity point on a metric-vs-sparsity curve (docs/methods/essential-sparsity.md §4). The metric is
 * perplexity; degradation is relative, ppl(p)/ppl(0) − 1 (the tolerance mode is recorded with the
 * result, docs/methods/essential-sparsity.md §4 (reconstruction)).
 */
public final class EssentialPoint {
    /** τ of the tolerance rule (1 %). */
    public static final double TOLERANCE = 0.01;
    /** The knee is accepted when slope_after ≥ KNEE_RATIO × slope_before (docs/methods/essential-sparsity.md §4). */
    public static final double KNEE_RATIO = 3.0;

    private EssentialPoint() {}

    /**
     * Tolerance rule: ES_τ = max{p : ppl(p)/ppl(0) − 1 ≤ τ}.
     *
     * @param p sparsity levels, ascending, p[0] = 0 (the dense model)
     * @param ppl perplexity at each level
     * @return the index of ES_τ in p
     */
    public static int tolerance(double[] p, double[] ppl, double tau) {
        if (p.length == 0 || p[0] != 0.0) {
            throw new IllegalArgumentException("the sweep must start at sparsity 0 (the dense reference)");
        }
        int es = 0;
        for (int i = 1; i < p.length; i++) {
            if (ppl[i] / ppl[0] - 1.0 <= tau) {
                es = i;
            }
        }
        return es;
    }

    /**
     * Two-segment continuous piecewise-linear fit of y = log ppl with the breakpoint at an interior
     * grid point.
     *
     * @param index breakpoint index in p (−1 when there are fewer than 3 points)
     * @param accepted slope_after ≥ 3·slope_before and slope_after > 0; otherwise "no sharp knee"
     */
    public record Knee(int index, double slopeBefore, double slopeAfter, double sse, boolean accepted) {}

    /** Knee cross-check (docs/methods/essential-sparsity.md §4 step 2): least squares over every interior breakpoint, lowest SSE wins. */
    public static Knee knee(double[] p, double[] ppl) {
        int n = p.length;
        if (n < 3) {
            return new Knee(-1, Double.NaN, Double.NaN, Double.NaN, false);
        }
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            y[i] = Math.log(ppl[i]);
        }
        Knee best = null;
        for (int b = 1; b < n - 1; b++) {
            // y ≈ a + s₁·x + (s₂ − s₁)·max(0, x − x_b): linear least squares in (a, s₁, Δ)
            double[][] ata = new double[3][3];
            double[] aty = new double[3];
            for (int i = 0; i < n; i++) {
                double[] row = {1.0, p[i], Math.max(0.0, p[i] - p[b])};
                for (int r = 0; r < 3; r++) {
                    aty[r] += row[r] * y[i];
                    for (int c = 0; c < 3; c++) {
                        ata[r][c] += row[r] * row[c];
                    }
                }
            }
            double[] coef = solve3(ata, aty);
            if (coef == null) {
                continue;
            }
            double sse = 0;
            for (int i = 0; i < n; i++) {
                double f = coef[0] + coef[1] * p[i] + coef[2] * Math.max(0.0, p[i] - p[b]);
                sse += (y[i] - f) * (y[i] - f);
            }
            double before = coef[1];
            double after = coef[1] + coef[2];
            if (best == null || sse < best.sse - 1e-15) {
                boolean ok = after > 0 && after >= KNEE_RATIO * before;
                best = new Knee(b, before, after, sse, ok);
            }
        }
        return best == null ? new Knee(-1, Double.NaN, Double.NaN, Double.NaN, false) : best;
    }

    /** Gaussian elimination with partial pivoting on a 3×3 system; null when singular. */
    private static double[] solve3(double[][] a0, double[] b0) {
        double[][] a = {a0[0].clone(), a0[1].clone(), a0[2].clone()};
        double[] b = b0.clone();
        for (int c = 0; c < 3; c++) {
            int piv = c;
            for (int r = c + 1; r < 3; r++) {
                if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) {
                    piv = r;
                }
            }
            if (Math.abs(a[piv][c]) < 1e-12) {
                return null;
            }
            double[] t = a[c];
            a[c] = a[piv];
            a[piv] = t;
            double tb = b[c];
            b[c] = b[piv];
            b[piv] = tb;
            for (int r = c + 1; r < 3; r++) {
                double f = a[r][c] / a[c][c];
                for (int k = c; k < 3; k++) {
                    a[r][k] -= f * a[c][k];
                }
                b[r] -= f * b[c];
            }
        }
        double[] x = new double[3];
        for (int r = 2; r >= 0; r--) {
            double s = b[r];
            for (int k = r + 1; k < 3; k++) {
                s -= a[r][k] * x[k];
            }
            x[r] = s / a[r][r];
        }
        return x;
    }
}
