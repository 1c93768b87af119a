package dev.shrink4j.quantize;

import java.util.logging.Logger;

/** Relative damping with retry, METHODS.md §1.3: H ← H + δ·mean(diag H)·I, δ ×10 per failed factorization. */
final class Damping {
    private static final Logger LOG = Logger.getLogger(Damping.class.getName());
    /** GPTQ/SparseGPT start, §1.3. */
    static final double GPTQ_DELTA = 0.01;
    /** Past this the matrix is not a Hessian any more; the caller reports the layer. */
    private static final double MAX_DELTA = 1e4;

    private Damping() {}

    static double meanDiag(double[] h, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += h[i * n + i];
        }
        return s / n;
    }

    /** H with δ·mean(diag H) added to the diagonal (a copy). */
    static double[] damped(double[] h, int n, double delta) {
        double[] d = h.clone();
        double add = delta * meanDiag(h, n);
        for (int i = 0; i < n; i++) {
            d[i * n + i] += add;
        }
        return d;
    }

    /** GPTQ's factor U (H⁻¹ = UᵀU) of the damped H, and the δ that made it work. */
    record Factor(double[] u, double delta, int retries) {}

    /**
     * @param h (n, n) symmetric; not modified
     * @throws IllegalStateException when no δ up to 10⁴ gives a positive definite matrix (NaN/Inf input)
     */
    static Factor gptqFactor(double[] h, int n, double delta) {
        int retries = 0;
        for (double d = delta; d <= MAX_DELTA; d *= 10) {
            double[] u = SpdBridge.upperCholeskyOfInverse(damped(h, n, d), n);
            if (u != null) {
                return new Factor(u, d, retries);
            }
            retries++;
            LOG.fine(() -> "Cholesky failed; retrying with more damping");
        }
        throw new IllegalStateException("Hessian is not positive definite even with damping " + MAX_DELTA
                + " (non-finite inputs?)");
    }
}
