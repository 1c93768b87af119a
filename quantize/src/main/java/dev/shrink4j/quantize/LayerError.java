package dev.shrink4j.quantize;

/** The layer-wise error of docs/methods/README.md §2: ‖XWᵀ − XŴᵀ‖²_F/n = Σ_j (w_j − ŵ_j)ᵀ H (w_j − ŵ_j), in fp64. */
public final class LayerError {
    private LayerError() {}

    /**
     * @param w    (d_out, d_in)
     * @param wHat (d_out, d_in)
     * @param h    (d_in, d_in) symmetric
     */
    public static double of(float[] w, float[] wHat, double[] h, int dOut, int dIn) {
        double total = 0;
        double[] e = new double[dIn];
        for (int j = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) e[i] = (double) w[j * dIn + i] - wHat[j * dIn + i];
            total += quadratic(e, h, dIn);
        }
        return total;
    }

    /** eᵀHe. */
    static double quadratic(double[] e, double[] h, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            if (e[i] == 0) continue;
            double r = 0;
            int hi = i * n;
            for (int l = 0; l < n; l++) r += h[hi + l] * e[l];
            s += e[i] * r;
        }
        return s;
    }
}
