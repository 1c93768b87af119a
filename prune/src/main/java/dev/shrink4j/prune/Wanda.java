package dev.shrink4j.prune;

/**
 * Wanda (docs/methods/pruning.md §2, arXiv:2306.11695): score S_ji = |W_ji|·‖X[:, i]‖₂, compared within each output row
 * (unstructured: the ⌊p·d_in⌋ lowest of the row; N:M: inside each group). No weight update.
 * Lifecycle: {@link #observe} calibration inputs, then {@link #prune} each matrix that reads them.
 */
public final class Wanda {
    private final double[] sumSquares; // (d_in) Σ_t x_ti² over every calibration token

    public Wanda(int dIn) {
        this.sumSquares = new double[dIn];
    }

    /** Builds the statistics from already-accumulated per-channel sums of squares. */
    public static Wanda ofSumSquares(double[] sumSquares) {
        Wanda w = new Wanda(sumSquares.length);
        System.arraycopy(sumSquares, 0, w.sumSquares, 0, sumSquares.length);
        return w;
    }

    /** @param x (tokens, d_in) row-major calibration inputs of the layer */
    public void observe(float[] x, int tokens) {
        int d = sumSquares.length;
        for (int t = 0; t < tokens; t++) {
            int base = t * d;
            for (int i = 0; i < d; i++) {
                double v = x[base + i];
                sumSquares[i] += v * v;
            }
        }
    }

    /** ‖X[:, i]‖₂ per input channel, (d_in). */
    public float[] columnNorms() {
        float[] n = new float[sumSquares.length];
        for (int i = 0; i < n.length; i++) {
            n[i] = (float) Math.sqrt(sumSquares[i]);
        }
        return n;
    }

    /**
     * Prunes one matrix reading this layer input: unstructured at fraction p when {@code pattern} is
     * null, else N:M.
     *
     * @param w (rows, cols = d_in) row-major; Modified
     * @return the mask, (rows, cols)
     */
    public boolean[] prune(float[] w, int rows, int cols, double p, NmPattern pattern) {
        if (cols != sumSquares.length) {
            throw new IllegalArgumentException("matrix has " + cols + " columns, statistics " + sumSquares.length);
        }
        float[] norms = columnNorms();
        float[] score = new float[cols];
        long[] keys = new long[cols];
        boolean[] mask = new boolean[rows * cols];
        int k = pattern == null ? (int) SparsityTarget.count(SparsityTarget.check(p, "wanda"), cols) : 0;
        if (pattern != null) {
            pattern.checkColumns(cols, "wanda");
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                score[c] = Math.abs(w[r * cols + c]) * norms[c];
            }
            if (pattern == null) {
                Selection.lowestK(score, 0, cols, k, keys, mask, r * cols);
            } else {
                Selection.nm(score, 0, cols, pattern, mask, r * cols);
            }
        }
        Masks.apply(w, mask);
        return mask;
    }
}
