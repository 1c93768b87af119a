package dev.shrink4j.quantize;

import dev.shrink4j.tensors.kernels.Kernels;

/**
 * GuidedQuant's group-averaged guided Hessians, METHODS.md §3.2–§3.3: with saliency
 * s_k[t] = mean_{j∈J_k} G_tj² for g contiguous groups J_k of output channels,
 * H̄_k = Σ_t s_k[t]·x_t x_tᵀ / n. Lifecycle: {@link #observe} token tiles (the same tokens in the same
 * order as the saliency pass, §3.3.3), then {@link #hessian}.
 *
 * <p>The paper's 10³ factor on G guards bf16 storage; saliencies here stay fp32 and every quantizer is
 * invariant to the scale of H, so it is not applied.
 */
public final class GuidedHessians {
    private final int dIn;
    private final int groups;
    private final double[][] h; // g × (d_in, d_in), upper triangle accumulated
    private long tokens;

    public GuidedHessians(int dIn, int groups) {
        this.dIn = dIn;
        this.groups = groups;
        this.h = new double[groups][dIn * dIn];
    }

    /** §3.6 default: 4 groups when d_out is divisible by 4, else 1. */
    public static int defaultGroups(int dOut) {
        return dOut % 4 == 0 ? 4 : 1;
    }

    public int groups() {
        return groups;
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
     * Adds a tile of tokens: H̄_k += Σ_t s_k[t]·x_t x_tᵀ. Each tile accumulates in fp32, tiles are reduced in fp64 (§1.3).
     *
     * @param x        (n, d_in) inputs of the module
     * @param saliency (n, g) from {@link #saliency}
     */
    public void observe(float[] x, float[] saliency, int n) {
        Kernels kernels = Kernels.get();
        float[] tile = new float[dIn * dIn];
        float[] sk = new float[n];
        for (int k = 0; k < groups; k++) {
            for (int t = 0; t < n; t++) sk[t] = saliency[t * groups + k];
            java.util.Arrays.fill(tile, 0f);
            // H̄_k tile = Xᵀ diag(s_k) X: a row-weighted SYRK (§3.2), upper triangle.
            kernels.syrkUpper(n, dIn, x, 0, dIn, sk, 0, tile, 0, dIn);
            double[] acc = h[k];
            for (int a = 0; a < dIn; a++) {
                for (int b = a; b < dIn; b++) acc[a * dIn + b] += tile[a * dIn + b];
            }
        }
        tokens += n;
    }

    /** H̄_k / n as a full symmetric (d_in, d_in) matrix. */
    public double[] hessian(int k) {
        double[] r = new double[dIn * dIn];
        double inv = tokens == 0 ? 0 : 1.0 / tokens;
        for (int a = 0; a < dIn; a++) {
            for (int b = a; b < dIn; b++) {
                double v = h[k][a * dIn + b] * inv;
                r[a * dIn + b] = v;
                r[b * dIn + a] = v;
            }
        }
        return r;
    }
}
