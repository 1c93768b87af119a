package dev.shrink4j.lowrank;

/** Error figures of a compressed weight E = Ŵ − W, reported per layer (§1.1). */
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
     * The layer-output error Σ_j e_jᵀ H e_j = ‖X(W − Ŵ)ᵀ‖²_F (for H = XᵀX; §1.1).
     *
     * @param h (dIn, dIn) symmetric
     */
    public static double weighted(float[] w, float[] what, double[] h, int dOut, int dIn) {
        double total = 0;
        double[] e = new double[dIn];
        for (int o = 0; o < dOut; o++) {
            for (int i = 0; i < dIn; i++) e[i] = (double) what[o * dIn + i] - w[o * dIn + i];
            for (int i = 0; i < dIn; i++) {
                if (e[i] == 0) continue;
                double s = 0;
                for (int k = 0; k < dIn; k++) s += h[i * dIn + k] * e[k];
                total += e[i] * s;
            }
        }
        return total;
    }

    /** {@link #weighted} relative to the output energy Σ_j w_jᵀ H w_j. */
    public static double relativeWeighted(float[] w, float[] what, double[] h, int dOut, int dIn) {
        double den = weighted(new float[w.length], w, h, dOut, dIn);
        double num = weighted(w, what, h, dOut, dIn);
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : num / den;
    }
}
