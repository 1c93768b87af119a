package dev.shrink4j.lowrank;

/**
 * A LOST layer (docs/methods/lowrank-lost.md §4 step 6): y = lowRankScale·B σ(A x) + sparseScale·W_s x_I. For post-training
 * compression (docs/methods/lowrank-lost.md §6) σ is the identity and both scales are 1 (γ folded in), so the layer merges to
 * Ŵ = B·A + scatter_I(W_s). As a training parameterisation (docs/methods/lowrank-lost.md §7) the scales are γ and 1 − γ, σ is
 * SiLU, and A, B, W_s train with I fixed; that is why the parts are kept apart here.
 *
 * @param lowRank the factors A (r, d_in) and B (d_out, r)
 * @param columns (c) kept input channels I, strictly ascending
 * @param values  (d_out, c) row-major W_s: column k holds the weights of input channel columns[k]
 */
public record LostDecomposition(LowRankFactors lowRank, int[] columns, float[] values, double lowRankScale, double sparseScale) {
    public LostDecomposition {
        int c = columns.length;
        if (c < 1 || values.length != (long) lowRank.dOut() * c) {
            throw new IllegalArgumentException("values " + values.length + " do not match " + lowRank.dOut() + "x" + c);
        }
        for (int k = 0; k < c; k++) {
            if (columns[k] < 0 || columns[k] >= lowRank.dIn() || (k > 0 && columns[k] <= columns[k - 1])) {
                throw new IllegalArgumentException("columns must be ascending ids in [0, " + lowRank.dIn() + ")");
            }
        }
    }

    public int dOut() {
        return lowRank.dOut();
    }

    public int dIn() {
        return lowRank.dIn();
    }

    public int rank() {
        return lowRank.rank();
    }

    public int columnCount() {
        return columns.length;
    }

    /** docs/methods/lowrank-lost.md §5 stored values r(d_in + d_out) + c·d_out; the c int32 ids are not counted. */
    public long params() {
        return Budgets.lostParams(dOut(), dIn(), rank(), columns.length);
    }

    /** The merged Ŵ (d_out, d_in) of docs/methods/lowrank-lost.md §6 (σ = identity). */
    public float[] reconstruct() {
        int dIn = dIn();
        int c = columns.length;
        float[] w = new float[dOut() * dIn];
        lowRank.reconstructInto(w, lowRankScale, false);
        for (int o = 0; o < dOut(); o++) {
            for (int k = 0; k < c; k++) w[o * dIn + columns[k]] += (float) (sparseScale * values[o * c + k]);
        }
        return w;
    }
}
