package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.linalg.Svd;

/**
 * docs/methods/lowrank-lost.md §1 truncated SVD: W = UΣVᵀ, Ŵ = U_r Σ_r V_rᵀ, A = √Σ_r V_rᵀ, B = U_r √Σ_r. Frobenius-optimal
 * on the weights alone (Eckart–Young); needs no calibration data.
 */
public final class TruncatedSvd {
    private final SvdSolver svd;

    public TruncatedSvd(SvdSolver svd) {
        this.svd = svd;
    }

    public TruncatedSvd() {
        this(SvdSolver.standard());
    }

    /** @param w (dOut, dIn) row-major */
    public LowRankFactors compress(float[] w, int dOut, int dIn, int rank) {
        Budgets.checkRank(rank, dOut, dIn);
        Svd t = svd.leading(Dense.toDouble(w), dOut, dIn, rank);
        return LowRankFactors.split(t, t.vt(), dIn);
    }
}
