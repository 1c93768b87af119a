package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.ShrinkException;

/**
 * §2.8 whitened SVD (SVD-LLM): with H = S·Sᵀ (lower Cholesky of the damped H = XᵀX/n),
 * ‖X(W − Ŵ)ᵀ‖²_F = ‖(W − Ŵ)S‖²_F, so truncating the SVD of M = W·S gives the layer-output-optimal
 * rank-r Ŵ = U_r Σ_r V_rᵀ S⁻¹. Factors: B = U_r √Σ_r, A = √Σ_r V_rᵀ S⁻¹, where V_rᵀS⁻¹ comes from the
 * triangular solve Sᵀ Z = V_r (never an explicit inverse).
 */
public final class WhitenedSvd {
    /** §1.3 relative damping δ. */
    public static final double DEFAULT_DAMP = 0.01;
    /** δ is multiplied by 10 at most this many times before giving up (§1.3). */
    static final int MAX_DAMP_RETRIES = 8;

    private final SvdSolver svd;
    private final double damp;

    public WhitenedSvd(SvdSolver svd, double damp) {
        this.svd = svd;
        this.damp = damp;
    }

    public WhitenedSvd() {
        this(SvdSolver.standard(), DEFAULT_DAMP);
    }

    /**
     * @param factors     the rank-r factors
     * @param damping     the relative δ that made the Cholesky succeed
     * @param deadColumns input channels with H_ii = 0 (their weights are zeroed, §1.3)
     */
    public record Result(LowRankFactors factors, double damping, int deadColumns) {}

    /**
     * @param w (dOut, dIn) row-major; not modified
     * @param h (dIn, dIn) symmetric XᵀX (any positive scale); not modified
     */
    public Result compress(float[] w, int dOut, int dIn, double[] h, int rank) {
        Budgets.checkRank(rank, dOut, dIn);
        if (h.length != (long) dIn * dIn) throw new IllegalArgumentException("H has " + h.length + " entries, expected " + dIn + "²");
        double[] wd = Dense.toDouble(w);
        Whitening s = whiten(wd, dOut, dIn, h, damp);
        double[] m = Dense.multiply(wd, s.lower, dOut, dIn, dIn); // (dOut, dIn) = W·S
        SvdSolver.Triplets t = svd.leading(m, dOut, dIn, rank);
        double[] z = t.v().clone(); // (dIn, rank): Sᵀ Z = V_r
        InterimCholesky.solveLowerTransposed(s.lower, dIn, z, rank);
        return new Result(LowRankFactors.split(t, Dense.transpose(z, dIn, rank), dIn), s.damping, s.deadColumns);
    }

    /** The lower Cholesky factor of the damped H, plus what it took (§1.3). */
    record Whitening(double[] lower, double damping, int deadColumns) {}

    /**
     * Dead columns (H_ii = 0) get H_ii = 1 and W[:, i] = 0; then H + δ·mean(diag H)·I is factorized,
     * δ growing ×10 while the factorization fails. Modified: w (dead columns zeroed).
     */
    static Whitening whiten(double[] w, int dOut, int dIn, double[] h, double damp) {
        double[] hd = h.clone();
        int dead = 0;
        double trace = 0;
        for (int i = 0; i < dIn; i++) {
            if (hd[i * dIn + i] == 0) {
                hd[i * dIn + i] = 1;
                for (int o = 0; o < dOut; o++) w[o * dIn + i] = 0;
                dead++;
            }
            trace += hd[i * dIn + i];
        }
        double mean = trace / dIn;
        double delta = damp;
        for (int attempt = 0; attempt <= MAX_DAMP_RETRIES; attempt++) {
            double[] damped = hd.clone();
            for (int i = 0; i < dIn; i++) damped[i * dIn + i] += delta * mean;
            double[] l = InterimCholesky.lower(damped, dIn);
            if (l != null) return new Whitening(l, delta, dead);
            delta = delta == 0 ? 1e-6 : delta * 10;
        }
        throw new ShrinkException("H is not positive definite even with damping " + delta / 10 + " (non-finite activations?)");
    }
}
