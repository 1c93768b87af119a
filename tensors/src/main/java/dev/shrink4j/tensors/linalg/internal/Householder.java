package dev.shrink4j.tensors.linalg.internal;

/**
 * Householder reflectors H = I − τ v vᵀ (v₀ = 1) and their blocked (compact WY) application,
 * I − V T Vᵀ with V (len, k) unit lower trapezoidal and T (k, k) upper triangular, as in LAPACK's
 * larfg / larft / larfb. V is always passed as a dense row-major copy so both column-stored (QR,
 * left bidiagonal) and row-stored (right bidiagonal) reflectors run through the same GEMMs.
 */
public final class Householder {
    private Householder() {}

    /**
     * Generates a reflector with H·(α, x) = (β, 0). Overwrites x (stride {@code inc}, {@code len}
     * values from {@code xo}) with v[1:], returns τ and stores β in {@code out[0]}.
     */
    public static double generate(double alpha, double[] x, int xo, int inc, int len, double[] out) {
        double scale = 0.0;
        double ssq = 1.0;
        for (int i = 0; i < len; i++) {
            double v = x[xo + i * inc];
            if (v != 0.0) {
                double a = Math.abs(v);
                if (scale < a) {
                    ssq = 1.0 + ssq * (scale / a) * (scale / a);
                    scale = a;
                } else {
                    ssq += (a / scale) * (a / scale);
                }
            }
        }
        double xnorm = scale * Math.sqrt(ssq);
        if (xnorm == 0.0) {
            out[0] = alpha;
            return 0.0;
        }
        double beta = -Math.copySign(Math.hypot(alpha, xnorm), alpha);
        double tau = (beta - alpha) / beta;
        double inv = 1.0 / (alpha - beta);
        for (int i = 0; i < len; i++) {
            x[xo + i * inc] *= inv;
        }
        out[0] = beta;
        return tau;
    }

    /**
     * T (k, k) upper triangular of the compact WY form of H₀H₁…H_{k−1} = I − V T Vᵀ.
     *
     * @param v   (len, k) row-major, unit lower trapezoidal (explicit ones and zeros)
     * @param tau k values
     * @param t   (k, k) output; modified
     */
    public static void formT(int len, int k, double[] v, double[] tau, int tauOff, double[] t) {
        double[] g = new double[k * k]; // VᵀV
        Dgemm.gemm(true, false, k, k, len, 1.0, v, 0, k, v, 0, k, 0.0, g, 0, k);
        java.util.Arrays.fill(t, 0, k * k, 0.0);
        for (int i = 0; i < k; i++) {
            double ti = tau[tauOff + i];
            t[i * k + i] = ti;
            // T[0:i, i] = −τ_i T[0:i, 0:i] (Vᵀ v_i)[0:i]
            for (int r = 0; r < i; r++) {
                double s = 0.0;
                for (int p = r; p < i; p++) {
                    s += t[r * k + p] * g[p * k + i];
                }
                t[r * k + i] = -ti * s;
            }
        }
    }

    /**
     * C ← (I − V op(T) Vᵀ) C, with op(T) = Tᵀ when {@code transpose} (that is, applies Qᵀ for
     * Q = I − V T Vᵀ), else T.
     *
     * @param v (len, k) dense; t (k, k) upper; c (len, nc) at offset {@code co} with leading dimension ldc
     */
    public static void applyLeft(boolean transpose, int len, int k, double[] v, double[] t,
                                 double[] c, int co, int ldc, int nc) {
        if (nc <= 0 || k <= 0 || len <= 0) {
            return;
        }
        double[] w = new double[k * nc];
        Dgemm.gemm(true, false, k, nc, len, 1.0, v, 0, k, c, co, ldc, 0.0, w, 0, nc); // W = Vᵀ C
        triangularMultiplyLeft(transpose, k, t, w, nc); // W = op(T) W
        Dgemm.gemm(false, false, len, nc, k, -1.0, v, 0, k, w, 0, nc, 1.0, c, co, ldc); // C −= V W
    }

    /**
     * C ← C (I − V op(T) Vᵀ), op(T) = Tᵀ when {@code transpose}.
     *
     * @param v (len, k) dense; t (k, k) upper; c (mc, len) at offset {@code co} with leading dimension ldc
     */
    public static void applyRight(boolean transpose, int len, int k, double[] v, double[] t,
                                  double[] c, int co, int ldc, int mc) {
        if (mc <= 0 || k <= 0 || len <= 0) {
            return;
        }
        double[] w = new double[mc * k];
        Dgemm.gemm(false, false, mc, k, len, 1.0, c, co, ldc, v, 0, k, 0.0, w, 0, k); // W = C V
        triangularMultiplyRight(transpose, k, t, w, mc); // W = W op(T)
        Dgemm.gemm(false, true, mc, len, k, -1.0, w, 0, k, v, 0, k, 1.0, c, co, ldc); // C −= W Vᵀ
    }

    /** W (k, n) ← op(T) W for T (k, k) upper. */
    private static void triangularMultiplyLeft(boolean transpose, int k, double[] t, double[] w, int n) {
        if (!transpose) {
            // row i of T W uses rows i..k−1 of W: go top-down
            for (int i = 0; i < k; i++) {
                int wi = i * n;
                double tii = t[i * k + i];
                for (int j = 0; j < n; j++) {
                    w[wi + j] *= tii;
                }
                for (int p = i + 1; p < k; p++) {
                    double f = t[i * k + p];
                    if (f == 0.0) {
                        continue;
                    }
                    int wp = p * n;
                    for (int j = 0; j < n; j++) {
                        w[wi + j] += f * w[wp + j];
                    }
                }
            }
        } else {
            // (Tᵀ W)_i = Σ_{p ≤ i} T[p][i] W_p: go bottom-up
            for (int i = k - 1; i >= 0; i--) {
                int wi = i * n;
                double tii = t[i * k + i];
                for (int j = 0; j < n; j++) {
                    w[wi + j] *= tii;
                }
                for (int p = 0; p < i; p++) {
                    double f = t[p * k + i];
                    if (f == 0.0) {
                        continue;
                    }
                    int wp = p * n;
                    for (int j = 0; j < n; j++) {
                        w[wi + j] += f * w[wp + j];
                    }
                }
            }
        }
    }

    /** W (m, k) ← W op(T) for T (k, k) upper. */
    private static void triangularMultiplyRight(boolean transpose, int k, double[] t, double[] w, int m) {
        double[] row = new double[k];
        for (int r = 0; r < m; r++) {
            int wr = r * k;
            java.util.Arrays.fill(row, 0.0);
            for (int p = 0; p < k; p++) {
                double x = w[wr + p];
                if (x == 0.0) {
                    continue;
                }
                if (!transpose) {
                    for (int j = p; j < k; j++) { // (W T)_j = Σ_{p ≤ j} W_p T[p][j]
                        row[j] += x * t[p * k + j];
                    }
                } else {
                    for (int j = 0; j <= p; j++) { // (W Tᵀ)_j = Σ_{p ≥ j} W_p T[j][p]
                        row[j] += x * t[j * k + p];
                    }
                }
            }
            System.arraycopy(row, 0, w, wr, k);
        }
    }
}
