package dev.shrink4j.prune;

/**
 * 2SSP stage 1 (docs/methods/2ssp.md §2): FFN neuron scores from intermediate activations and physical removal of
 * neurons (rows of gate/up, columns of down). Lifecycle per block: {@link #observe} each calibration
 * sample's down_proj input, then {@link #keep} the top-k neurons.
 */
public final class WidthPruning {
    private final double[] sumOfNorms; // (d_ff) Σ_u ‖A⁽ᵘ⁾[:, j]‖₂
    private int samples;

    public WidthPruning(int intermediateSize) {
        this.sumOfNorms = new double[intermediateSize];
    }

    /**
     * One sample's activation A = act(gate(x)) ⊙ up(x).
     *
     * @param a (tokens, d_ff) row-major
     */
    public void observe(float[] a, int tokens) {
        int d = sumOfNorms.length;
        double[] sq = new double[d];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < d; j++) {
                double v = a[t * d + j];
                sq[j] += v * v;
            }
        }
        for (int j = 0; j < d; j++) {
            sumOfNorms[j] += Math.sqrt(sq[j]);
        }
        samples++;
    }

    /** Adds per-neuron squared norms of one sample computed elsewhere, (d_ff) Σ_t a_tj². */
    public void observeSquaredNorms(double[] squaredNorms) {
        for (int j = 0; j < sumOfNorms.length; j++) {
            sumOfNorms[j] += Math.sqrt(squaredNorms[j]);
        }
        samples++;
    }

    /** I_j = (1/N_c) Σ_u ‖A⁽ᵘ⁾[:, j]‖₂, (d_ff). */
    public float[] scores() {
        float[] s = new float[sumOfNorms.length];
        for (int j = 0; j < s.length; j++) {
            s[j] = (float) (sumOfNorms[j] / Math.max(1, samples));
        }
        return s;
    }

    /** The k neurons with the highest scores, ascending (ties: the later neuron is dropped first). */
    public int[] keep(int k) {
        return topK(scores(), k);
    }

    /** Ascending ids of the k largest scores; ties broken so the lower id is kept. */
    public static int[] topK(float[] scores, int k) {
        int d = scores.length;
        if (k < 1 || k > d) {
            throw new IllegalArgumentException("cannot keep " + k + " of " + d + " neurons");
        }
        // drop the d − k lowest; negate the position so that among ties the higher id is dropped
        long[] keys = new long[d];
        for (int j = 0; j < d; j++) {
            keys[j] = ((long) (Float.floatToRawIntBits(scores[j]) & 0x7fffffff) << 32) | (0xffffffffL - j);
        }
        boolean[] drop = new boolean[d];
        if (d - k > 0) {
            Selection.select(keys, 0, d - 1, d - k - 1);
            for (int i = 0; i < d - k; i++) {
                drop[(int) (0xffffffffL - (keys[i] & 0xffffffffL))] = true;
            }
        }
        int[] kept = new int[k];
        int n = 0;
        for (int j = 0; j < d; j++) {
            if (!drop[j]) {
                kept[n++] = j;
            }
        }
        return kept;
    }

    /**
     * Keeps the given rows of a (rows, cols) matrix (gate_proj, up_proj: (d_ff, h)).
     *
     * @return (ids.length, cols)
     */
    public static float[] keepRows(float[] w, int cols, int[] ids) {
        float[] out = new float[ids.length * cols];
        for (int r = 0; r < ids.length; r++) {
            System.arraycopy(w, ids[r] * cols, out, r * cols, cols);
        }
        return out;
    }

    /**
     * Keeps the given columns of a (rows, cols) matrix (down_proj: (h, d_ff)).
     *
     * @return (rows, ids.length)
     */
    public static float[] keepColumns(float[] w, int rows, int cols, int[] ids) {
        float[] out = new float[rows * ids.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < ids.length; c++) {
                out[r * ids.length + c] = w[r * cols + ids[c]];
            }
        }
        return out;
    }

    /** Keeps the given entries of a vector (a gate/up bias). */
    public static float[] keepEntries(float[] v, int[] ids) {
        float[] out = new float[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = v[ids[i]];
        }
        return out;
    }
}
