package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.linalg.Svd;

/**
 * docs/methods/lowrank-lost.md §3 ASVD: scale input channel i by d_i = (mean_t |X_ti|)^α, truncate the SVD of W·D and undo the
 * scale on the input side: Ŵ = U_r Σ_r V_rᵀ D⁻¹, A = √Σ_r V_rᵀ D⁻¹, B = U_r √Σ_r. Channels that carry
 * large activations are thereby approximated more closely. (The optional sensitivity-based rank
 * allocation of docs/methods/lowrank-lost.md §3 step 3 is not implemented; every matrix gets the rank its budget allows.)
 */
public final class ActivationScaledSvd {
    /** docs/methods/lowrank-lost.md §3 exponent α. */
    public static final double DEFAULT_ALPHA = 0.5;

    private final SvdSolver svd;
    private final double alpha;

    public ActivationScaledSvd(SvdSolver svd, double alpha) {
        this.svd = svd;
        this.alpha = alpha;
    }

    public ActivationScaledSvd() {
        this(SvdSolver.standard(), DEFAULT_ALPHA);
    }

    /**
     * @param w       (dOut, dIn) row-major; not modified
     * @param meanAbs (dIn) mean_t |X_ti| over the calibration tokens
     */
    public LowRankFactors compress(float[] w, int dOut, int dIn, double[] meanAbs, int rank) {
        Budgets.checkRank(rank, dOut, dIn);
        double[] d = scales(meanAbs, alpha);
        double[] m = Dense.toDouble(w); // (dOut, dIn) → W·D
        for (int o = 0; o < dOut; o++) {
            for (int i = 0; i < dIn; i++) m[o * dIn + i] *= d[i];
        }
        Svd t = svd.leading(m, dOut, dIn, rank);
        double[] vt = t.vt().clone(); // (rank, dIn) → V_rᵀ D⁻¹
        for (int k = 0; k < rank; k++) {
            for (int i = 0; i < dIn; i++) vt[k * dIn + i] /= d[i];
        }
        return LowRankFactors.split(t, vt, dIn);
    }

    /**
     * d_i = meanAbs_i^α. A channel never active (meanAbs_i = 0) would make D singular; it gets the
     * smallest positive scale instead, so its weights are approximated with the least priority.
     */
    static double[] scales(double[] meanAbs, double alpha) {
        double[] d = new double[meanAbs.length];
        double min = Double.POSITIVE_INFINITY;
        for (int i = 0; i < d.length; i++) {
            d[i] = Math.pow(meanAbs[i], alpha);
            if (d[i] > 0 && d[i] < min) min = d[i];
        }
        if (min == Double.POSITIVE_INFINITY) min = 1;
        for (int i = 0; i < d.length; i++) {
            if (!(d[i] > 0) || !Double.isFinite(d[i])) d[i] = min;
        }
        return d;
    }
}
