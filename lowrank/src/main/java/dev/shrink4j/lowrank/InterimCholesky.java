package dev.shrink4j.lowrank;

/**
 * fp64 Cholesky and the transposed triangular solve the whitened SVD needs (§1.3, §2.8). Interim:
 * replaced by the tensors module's linalg once it lands, then deleted.
 */
final class InterimCholesky {
    private InterimCholesky() {}

    /**
     * Lower L with H = L·Lᵀ, or null when H is not numerically positive definite.
     *
     * @param h (n, n) symmetric, row-major; not modified
     */
    static double[] lower(double[] h, int n) {
        double[] l = new double[n * n];
        for (int j = 0; j < n; j++) {
            double d = h[j * n + j];
            for (int k = 0; k < j; k++) d -= l[j * n + k] * l[j * n + k];
            if (!(d > 0)) return null;
            double ljj = Math.sqrt(d);
            l[j * n + j] = ljj;
            for (int i = j + 1; i < n; i++) {
                double s = h[i * n + j];
                for (int k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
                l[i * n + j] = s / ljj;
            }
        }
        return l;
    }

    /**
     * Solves Lᵀ·Z = B for Z by back substitution (Lᵀ is upper triangular).
     *
     * @param l (n, n) lower triangular
     * @param b (n, k); overwritten with Z. Modified: b.
     */
    static void solveLowerTransposed(double[] l, int n, double[] b, int k) {
        for (int i = n - 1; i >= 0; i--) {
            double lii = l[i * n + i];
            for (int c = 0; c < k; c++) {
                double s = b[i * k + c];
                for (int p = i + 1; p < n; p++) s -= l[p * n + i] * b[p * k + c];
                b[i * k + c] = s / lii;
            }
        }
    }
}
