package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.linalg.Matrices;

/** Error figures of a compressed weight E = Ŵ − W, reported per layer (docs/methods/README.md §2). */
public final class ReconstructionError {
    private ReconstructionError() {}

    /**
     * ‖Ŵ − W‖²_F / ‖W‖²_F.
     *
     * @param w    (dOut·dIn) original
     * @param what (dOut·dIn) approximation
     */
    public static double relativeFrobenius(float[] w, float[] what) {
        double num = 0, den = 0;
        for (int i = 0; i < w.length; i++) {
            double e = (double) what[i] - w[i];
            num += e * e;
            den += (double) w[i] * w[i];
        }
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : num / den;
    }

    /**
     * The layer-output error Σ_j e_jᵀ H e_j = ‖X(W − Ŵ)ᵀ‖²_F (for H = XᵀX; docs/methods/README.md §2).
     *
     * @param h (dIn, dIn) symmetric
     */
    public static double weighted(float[] w, float[] what, double[] h, int dOut, int dIn) {
        double[] e = new double[dOut * dIn]; // (dOut, dIn)
        for (int i = 0; i < e.length; i++) e[i] = (double) what[i] - w[i];
        double[] eh = Matrices.multiply(e, false, h, false, dOut, dIn, dIn); // E·H (H symmetric)
        double total = 0;
        for (int i = 0; i < e.length; i++) total += e[i] * eh[i];
        return total;
    }

    /** {@link #weighted} relative to the output energy Σ_j w_jᵀ H w_j. */
    public static double relativeWeighted(float[] w, float[] what, double[] h, int dOut, int dIn) {
        double den = weighted(new float[w.length], w, h, dOut, dIn);
        double num = weighted(w, what, h, dOut, dIn);
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : num / den;
    }
}
