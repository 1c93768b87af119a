package dev.shrink4j.quantize;

import dev.shrink4j.model.InputStatistics;

/**
 * GuidedQuant's group-averaged guided Hessians, docs/methods/guidedquant-lnq.md §2–§3: with saliency
 * s_k[t] = mean_{j∈J_k} G_tj² for g contiguous groups J_k of output channels,
 * H̄_k = Σ_t s_k[t]·x_t x_tᵀ / n, one row-weighted {@link InputStatistics} per group. Lifecycle:
 * {@link #observe} token chunks (the same tokens in the same order as the saliency pass, docs/methods/guidedquant-lnq.md §3 step 3),
 * then {@link #hessian}.
 *
 * <p>The paper's 10³ factor on G guards bf16 storage; saliencies here stay fp32 and every quantizer is
 * invariant to the scale of H, so it is not applied.
 */
public final class GuidedHessians {
    private final int groups;
    private final InputStatistics[] stats; // g × H̄_k accumulators, (d_in, d_in) each

    public GuidedHessians(int dIn, int groups) {
        this.groups = groups;
        this.stats = new InputStatistics[groups];
        for (int k = 0; k < groups; k++) stats[k] = new InputStatistics(dIn);
    }

    /** docs/methods/guidedquant-lnq.md §6 default: 4 groups when d_out is divisible by 4, else 1. */
    public static int defaultGroups(int dOut) {
        return dOut % 4 == 0 ? 4 : 1;
    }

    public int groups() {
        return groups;
    }

    /** d_in of the module. */
    public int dIn() {
        return stats[0].dIn();
    }

    /**
     * Per-token group-averaged squared output gradients.
     *
     * @param gradOut (n, d_out) ∂ℓ/∂Y of one module
     * @return (n, g) saliencies
     */
    public static float[] saliency(float[] gradOut, int n, int dOut, int groups) {
        if (dOut % groups != 0) {
            throw new IllegalArgumentException("d_out " + dOut + " is not divisible into " + groups + " guided groups");
        }
        int per = dOut / groups;
        float[] s = new float[n * groups];
        for (int t = 0; t < n; t++) {
            for (int k = 0; k < groups; k++) {
                double acc = 0;
                for (int j = k * per; j < (k + 1) * per; j++) {
                    double gv = gradOut[t * dOut + j];
                    acc += gv * gv;
                }
                s[t * groups + k] = (float) (acc / per);
            }
        }
        return s;
    }

    /**
     * Adds a chunk of tokens: H̄_k += Σ_t s_k[t]·x_t x_tᵀ (docs/methods/guidedquant-lnq.md §2: rows of X scaled by √s_k[t], then SYRK).
     *
     * @param x        (n, d_in) inputs of the module
     * @param saliency (n, g) from {@link #saliency}, starting at row {@code from}
     */
    public void observe(float[] x, float[] saliency, int from, int n) {
        float[] sk = new float[n];
        for (int k = 0; k < groups; k++) {
            for (int t = 0; t < n; t++) sk[t] = saliency[(from + t) * groups + k];
            stats[k].add(x, n, sk);
        }
    }

    /** H̄_k / n, full symmetric (d_in, d_in). */
    public double[] hessian(int k) {
        return stats[k].hessian();
    }

    /** {@link #hessian} without the copy ({@link InputStatistics#takeHessian}); group k is done afterwards. */
    public double[] takeHessian(int k) {
        return stats[k].takeHessian();
    }
}
