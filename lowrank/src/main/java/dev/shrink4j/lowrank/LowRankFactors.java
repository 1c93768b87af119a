package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.linalg.Matrices;
import dev.shrink4j.tensors.linalg.Svd;

/**
 * Ŵ = B·A, the two factors of a rank-r approximation (docs/methods/lowrank-lost.md §1): the forward pass is y = B(Ax), so A
 * sits on the input side and B on the output side, each carrying √Σ_r.
 *
 * @param a (rank, dIn) row-major
 * @param b (dOut, rank) row-major
 */
public record LowRankFactors(int dOut, int dIn, int rank, float[] a, float[] b) {
    public LowRankFactors {
        if (rank < 1 || dOut < 1 || dIn < 1) throw new IllegalArgumentException("bad shape " + dOut + "x" + dIn + " rank " + rank);
        if (a.length != (long) rank * dIn || b.length != (long) dOut * rank) {
            throw new IllegalArgumentException("factor lengths " + a.length + "/" + b.length + " do not match " + dOut + "x" + dIn + " rank " + rank);
        }
    }

    /** Stored values, r·(d_in + d_out) (docs/methods/lowrank-lost.md §1). */
    public long params() {
        return (long) rank * (dIn + dOut);
    }

    /** Ŵ = B·A into {@code out} (dOut, dIn), scaled by {@code scale} and added when {@code accumulate}. Modified: out. */
    public void reconstructInto(float[] out, double scale, boolean accumulate) {
        double[] prod = Matrices.multiply(Dense.toDouble(b), false, Dense.toDouble(a), false, dOut, dIn, rank); // (dOut, dIn), fp64 GEMM
        for (int i = 0; i < prod.length; i++) {
            float v = (float) (scale * prod[i]);
            out[i] = accumulate ? out[i] + v : v;
        }
    }

    /** Ŵ = B·A as a new (dOut, dIn) array. */
    public float[] reconstruct() {
        float[] out = new float[dOut * dIn];
        reconstructInto(out, 1, false);
        return out;
    }

    /**
     * Factors from leading triplets of a matrix M and an input-side map: Ŵ = U_r Σ_r (V_rᵀ·T), where
     * {@code vtRight} already holds the (rank, dIn) rows of V_rᵀ·T (T = I for plain SVD, S⁻¹ or D⁻¹
     * for the activation-aware variants). √Σ_r goes into both factors (docs/methods/lowrank-lost.md §1, docs/methods/lowrank-lost.md §2 step 4).
     *
     * @param t       u (dOut, r), s (r)
     * @param vtRight (r, dIn)
     */
    static LowRankFactors split(Svd t, double[] vtRight, int dIn) {
        int r = t.k();
        int dOut = t.m();
        float[] a = new float[r * dIn];
        float[] b = new float[dOut * r];
        for (int k = 0; k < r; k++) {
            double root = Math.sqrt(t.s()[k]);
            for (int i = 0; i < dIn; i++) a[k * dIn + i] = (float) (root * vtRight[k * dIn + i]);
            for (int o = 0; o < dOut; o++) b[o * r + k] = (float) (t.u()[o * r + k] * root);
        }
        return new LowRankFactors(dOut, dIn, r, a, b);
    }
}
