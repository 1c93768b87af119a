package dev.shrink4j.quantize;

import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.CsrSparse;
import dev.shrink4j.tensors.formats.DenseAndSparse;
import java.lang.foreign.Arena;
import java.util.Arrays;

/**
 * The outlier part of one linear (docs/methods/pqi-requant.md §3 steps 3–4, docs/methods/pqi-requant.md §4 step 1): the
 * candidates are the k weights furthest from their row mean; the dense part is quantized without them
 * (their value set to 0, which the uniform grids' ranges include anyway, and their Fisher weight set to
 * 0 so the LUT k-means ignores them); the sparse part stores the residual w − D at their positions, so
 * D + S reproduces w there up to the F16 rounding of the residual (docs/methods/squeezellm.md §4 convention, pqi-requant.md §6 storage).
 */
final class OutlierSplit {
    private OutlierSplit() {}

    /**
     * The {@code k} positions (flat, row-major, ascending) with the largest |w − mean(row)|; ties by position.
     *
     * @param w (d_out, d_in)
     */
    static int[] furthestFromRowMean(float[] w, int dOut, int dIn, int k) {
        if (k <= 0) return new int[0];
        float[] score = new float[w.length];
        for (int j = 0; j < dOut; j++) {
            double mean = 0;
            for (int i = 0; i < dIn; i++) mean += w[j * dIn + i];
            mean /= dIn;
            for (int i = 0; i < dIn; i++) score[j * dIn + i] = (float) Math.abs(w[j * dIn + i] - mean);
        }
        float[] sorted = score.clone();
        Arrays.sort(sorted);
        float tau = sorted[sorted.length - Math.min(k, sorted.length)];
        int above = 0;
        for (float s : score) if (s > tau) above++;
        int ties = Math.min(k, score.length) - above;
        int[] pos = new int[Math.min(k, score.length)];
        int n = 0;
        for (int p = 0; p < score.length; p++) {
            if (score[p] > tau || (score[p] == tau && ties-- > 0)) pos[n++] = p;
        }
        return pos;
    }

    /**
     * The {@code k} positions of {@link #furthestFromRowMean} ordered by |w − mean(row)| descending, ties
     * by position: every prefix of length k' ≤ k is the set furthestFromRowMean gives for k'. One
     * selection serves a whole ratio grid (docs/methods/pqi-requant.md §4 step 1).
     */
    static int[] rankedFromRowMean(float[] w, int dOut, int dIn, int k) {
        int[] pos = furthestFromRowMean(w, dOut, dIn, k);
        double[] mean = new double[dOut]; // as furthestFromRowMean computes it, so the scores are the same floats
        for (int j = 0; j < dOut; j++) {
            double m = 0;
            for (int i = 0; i < dIn; i++) m += w[j * dIn + i];
            mean[j] = m / dIn;
        }
        float[] score = new float[pos.length];
        for (int n = 0; n < pos.length; n++) score[n] = (float) Math.abs(w[pos[n]] - mean[pos[n] / dIn]);
        Integer[] order = new Integer[pos.length];
        for (int n = 0; n < order.length; n++) order[n] = n;
        // pos is ascending, so a stable sort by score keeps ties in position order
        Arrays.sort(order, (a, b) -> Float.compare(score[b], score[a]));
        int[] r = new int[pos.length];
        for (int n = 0; n < r.length; n++) r[n] = pos[order[n]];
        return r;
    }

    /** w with the positions set to 0. */
    static float[] without(float[] w, int[] positions) {
        float[] r = w.clone();
        for (int p : positions) r[p] = 0;
        return r;
    }

    /** The Fisher diagonal with the positions given no weight (null stays null). */
    static float[] fisherWithout(float[] fisher, int[] positions) {
        if (fisher == null) return null;
        float[] r = fisher.clone();
        for (int p : positions) r[p] = 0;
        return r;
    }

    /**
     * D + S with S = w − D at {@code mask}'s positions, D = {@code base}; {@code base} itself when the mask is empty.
     *
     * @param w    (d_out·d_in) the original weights
     * @param mask (d_out·d_in) positions held exactly by the sparse part
     */
    static CompressedWeight withResiduals(Arena arena, CompressedWeight base, float[] w, boolean[] mask) {
        int dOut = base.dOut(), dIn = base.dIn();
        int nnz = 0;
        for (boolean b : mask) if (b) nnz++;
        if (nnz == 0) return base;
        int[] rowptr = new int[dOut + 1];
        int[] cols = new int[nnz];
        float[] vals = new float[nnz];
        float[] d = new float[dIn];
        int at = 0;
        for (int j = 0; j < dOut; j++) {
            boolean any = false;
            for (int i = 0; i < dIn && !any; i++) any = mask[j * dIn + i];
            if (any) base.dequantizeRow(j, d, 0);
            for (int i = 0; i < dIn; i++) {
                if (!mask[j * dIn + i]) continue;
                cols[at] = i;
                vals[at++] = w[j * dIn + i] - d[i];
            }
            rowptr[j + 1] = at;
        }
        return new DenseAndSparse(base, CsrSparse.of(arena, dOut, dIn, rowptr, cols, vals));
    }

    /** The dense (non-sparse) part of a weight. */
    static CompressedWeight dense(CompressedWeight cw) {
        return cw instanceof DenseAndSparse ds ? ds.base() : cw;
    }

    /** Σ_{i∉O} F_i·(w_i − D_i)² (docs/methods/pqi-requant.md §4 step 1); F = 1 where no Fisher is given. */
    static double error(float[] w, float[] d, float[] fisher, int[] positions) {
        boolean[] out = new boolean[w.length];
        for (int p : positions) out[p] = true;
        double e = 0;
        for (int i = 0; i < w.length; i++) {
            if (out[i]) continue;
            double diff = w[i] - d[i];
            e += (fisher == null ? 1 : fisher[i]) * diff * diff;
        }
        return e;
    }
}
