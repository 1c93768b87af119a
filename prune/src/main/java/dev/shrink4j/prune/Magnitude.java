package dev.shrink4j.prune;

/**
 * Magnitude pruning (docs/methods/pruning.md §1): score |W_ji|, no data. Per matrix (the ⌊p·d_out·d_in⌋ smallest, ties by
 * position) or N:M per row group. The global variant is {@link GlobalMagnitude}.
 */
public final class Magnitude {
    private Magnitude() {}

    /**
     * Zeroes the ⌊p·w.length⌋ smallest |w| in place.
     *
     * @param w (d_out, d_in) row-major; Modified
     * @return the number of weights set to zero by the mask
     */
    public static long pruneMatrix(float[] w, double p) {
        SparsityTarget.check(p, "magnitude");
        RadixSelect.Cut cut = RadixSelect.of(w, SparsityTarget.count(p, w.length));
        return cut.applier().apply(w, 0, w.length);
    }

    /**
     * N:M magnitude pruning: in each row keep the n largest |w| of every m consecutive columns.
     *
     * @param w (rows, cols) row-major; Modified
     * @return the pruning mask, (rows, cols)
     */
    public static boolean[] pruneNm(float[] w, int rows, int cols, NmPattern p) {
        p.checkColumns(cols, "magnitude");
        float[] score = new float[cols];
        boolean[] mask = new boolean[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                score[c] = Math.abs(w[r * cols + c]);
            }
            Selection.nm(score, 0, cols, p, mask, r * cols);
        }
        Masks.apply(w, mask);
        return mask;
    }
}
