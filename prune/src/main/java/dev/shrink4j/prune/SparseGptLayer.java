package dev.shrink4j.prune;

import dev.shrink4j.tensors.linalg.Damping;

/**
 * SparseGPT on one linear from its proxy Hessian (docs/methods/pruning.md §3 with docs/methods/pipeline.md §3): dead columns (H_ii = 0 → H_ii = 1,
 * W[:, i] = 0), damping δ = 0.01·mean(diag H) with ×10 retries, U = upper Cholesky factor of H⁻¹ in
 * fp64, then the fp32 sweep of {@link SparseGpt}.
 */
public final class SparseGptLayer {
    private SparseGptLayer() {}

    /** What the factorization needed, for the report. */
    public record Outcome(boolean[] mask, int deadColumns, double delta, int retries) {}

    /**
     * @param w (d_out, d_in) row-major; Modified
     * @param h (d_in, d_in) H/n; Modified (dead diagonal entries set to 1)
     */
    public static Outcome prune(float[] w, int dOut, int dIn, double[] h, double p, NmPattern pattern,
                                int blockSize, double delta, Damping.Listener listener) {
        int dead = 0;
        for (int i = 0; i < dIn; i++) {
            if (h[i * dIn + i] == 0.0) {
                h[i * dIn + i] = 1.0;
                dead++;
                for (int r = 0; r < dOut; r++) {
                    w[r * dIn + i] = 0f;
                }
            }
        }
        Damping.Result f = Damping.factor(h, dIn, Damping.Factor.INVERSE_UPPER,
                Damping.Policy.GPTQ.withInitialDelta(delta), listener);
        double[] u64 = f.factor();
        float[] u = new float[u64.length];
        for (int i = 0; i < u.length; i++) {
            u[i] = (float) u64[i];
        }
        boolean[] mask = SparseGpt.prune(w, dOut, dIn, u, p, pattern, blockSize);
        return new Outcome(mask, dead, f.delta(), f.retries());
    }
}
