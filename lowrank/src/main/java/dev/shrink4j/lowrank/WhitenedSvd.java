package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.linalg.Damping;
import dev.shrink4j.tensors.linalg.Matrices;
import dev.shrink4j.tensors.linalg.NotPositiveDefiniteException;
import dev.shrink4j.tensors.linalg.Svd;
import dev.shrink4j.tensors.linalg.Triangular;

/**
 * docs/methods/lowrank-lost.md §2 whitened SVD (SVD-LLM): with H = S·Sᵀ (lower Cholesky of the damped H = XᵀX/n),
 * ‖X(W − Ŵ)ᵀ‖²_F = ‖(W − Ŵ)S‖²_F, so truncating the SVD of M = W·S gives the layer-output-optimal
 * rank-r Ŵ = U_r Σ_r V_rᵀ S⁻¹. Factors: B = U_r √Σ_r, A = √Σ_r V_rᵀ S⁻¹, where V_rᵀS⁻¹ comes from the
 * triangular solve Sᵀ Z = V_r (never an explicit inverse).
 */
public final class WhitenedSvd {
    /** docs/methods/pipeline.md §3 relative damping δ. */
    public static final double DEFAULT_DAMP = 0.01;

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
     * @param deadColumns input channels with H_ii = 0 (their weights are zeroed, docs/methods/pipeline.md §3)
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
        double[] m = Matrices.multiply(wd, false, s.lower, false, dOut, dIn, dIn); // (dOut, dIn) = W·S
        Svd t = svd.leading(m, dOut, dIn, rank);
        double[] z = Matrices.transpose(t.vt(), rank, dIn); // (dIn, rank): Sᵀ Z = V_r
        Triangular.solveLowerTransposed(s.lower, dIn, z, rank);
        return new Result(LowRankFactors.split(t, Matrices.transpose(z, dIn, rank), dIn), s.damping, s.deadColumns);
    }

    /** The lower Cholesky factor of the damped H, plus what it took (docs/methods/pipeline.md §3). */
    record Whitening(double[] lower, double damping, int deadColumns) {}

    /**
     * Dead columns (H_ii = 0) get H_ii = 1 and W[:, i] = 0; then H + δ·mean(diag H)·I is factorized,
     * δ growing ×10 while the factorization fails, each retry logged (docs/methods/pipeline.md §3). δ = 0 tries the
     * undamped H first, then {@link #DEFAULT_DAMP}. Modified: w (dead columns zeroed).
     */
    static Whitening whiten(double[] w, int dOut, int dIn, double[] h, double damp) {
        double[] hd = h.clone();
        int dead = 0;
        for (int i = 0; i < dIn; i++) {
            if (hd[i * dIn + i] == 0) {
                hd[i * dIn + i] = 1;
                for (int o = 0; o < dOut; o++) w[o * dIn + i] = 0;
                dead++;
            }
        }
        Damping.Policy policy = damp > 0 ? Damping.Policy.GPTQ.withInitialDelta(damp)
                : new Damping.Policy(DEFAULT_DAMP, 10, 100, true);
        try {
            Damping.Result r = Damping.factor(hd, dIn, Damping.Factor.LOWER, policy);
            return new Whitening(r.factor(), r.delta(), dead);
        } catch (NotPositiveDefiniteException e) {
            throw new ShrinkException("H is not positive definite even with damping " + policy.maxDelta()
                    + " (non-finite activations?): " + e.getMessage());
        }
    }
}
