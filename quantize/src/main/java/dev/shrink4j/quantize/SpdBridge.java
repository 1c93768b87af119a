package dev.shrink4j.quantize;

/**
 * The few dense fp64 factorizations the quantizers need (METHODS.md §1.3), kept behind one small
 * class so they switch to {@code dev.shrink4j.tensors.linalg} in one place when it lands.
 */
final class SpdBridge {
    private SpdBridge() {}

    /**
     * In-place lower Cholesky factor of the (n, n) SPD matrix a (upper triangle left as is).
     *
     * @return false when a pivot is not positive (a is then partly overwritten)
     */
    static boolean choleskyLower(double[] a, int n) {
        for (int j = 0; j < n; j++) {
            int rj = j * n;
            double d = a[rj + j];
            for (int k = 0; k < j; k++) {
                d -= a[rj + k] * a[rj + k];
            }
            if (!(d > 0) || !Double.isFinite(d)) {
                return false;
            }
            double ljj = Math.sqrt(d);
            a[rj + j] = ljj;
            double inv = 1 / ljj;
            for (int i = j + 1; i < n; i++) {
                int ri = i * n;
                double s = a[ri + j];
                for (int k = 0; k < j; k++) {
                    s -= a[ri + k] * a[rj + k];
                }
                a[ri + j] = s * inv;
            }
        }
        return true;
    }

    /**
     * U, upper triangular with H⁻¹ = UᵀU (GPTQ's factor, §2.2 step 4), from H.
     * With J the reversal permutation, JHJ = L'L'ᵀ gives H = ŨŨᵀ with Ũ = JL'J upper, so
     * H⁻¹ = Ũ⁻ᵀŨ⁻¹ and U = Ũ⁻¹: one Cholesky and one triangular inverse.
     *
     * @param h (n, n) symmetric; not modified
     * @return U (n, n) row-major with zeros below the diagonal, or null when H is not positive definite
     */
    static double[] upperCholeskyOfInverse(double[] h, int n) {
        double[] r = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                r[i * n + j] = h[(n - 1 - i) * n + (n - 1 - j)];
            }
        }
        if (!choleskyLower(r, n)) {
            return null;
        }
        // Ũ[i][j] = L'[n-1-i][n-1-j] (upper). Invert Ũ by back substitution, column by column.
        double[] u = new double[n * n];
        for (int j = n - 1; j >= 0; j--) {
            u[j * n + j] = 1 / r[(n - 1 - j) * n + (n - 1 - j)];
            for (int i = j - 1; i >= 0; i--) {
                double s = 0;
                int li = n - 1 - i;
                for (int k = i + 1; k <= j; k++) {
                    s += r[li * n + (n - 1 - k)] * u[k * n + j];
                }
                u[i * n + j] = -s / r[li * n + li];
            }
        }
        return u;
    }

    /**
     * Solves the small SPD system A x = b in place (LNQ's C-step, §3.5.3).
     *
     * @param a (n, n), destroyed
     * @param b (n), overwritten with x
     * @return false when A is not positive definite
     */
    static boolean solveSpd(double[] a, double[] b, int n) {
        if (!choleskyLower(a, n)) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            double s = b[i];
            for (int k = 0; k < i; k++) {
                s -= a[i * n + k] * b[k];
            }
            b[i] = s / a[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--) {
            double s = b[i];
            for (int k = i + 1; k < n; k++) {
                s -= a[k * n + i] * b[k];
            }
            b[i] = s / a[i * n + i];
        }
        return true;
    }
}
