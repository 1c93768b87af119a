package dev.shrink4j.tensors.linalg;

import dev.shrink4j.tensors.linalg.internal.Householder;

/**
 * Householder QR of a tall (m, n) matrix, m ≥ n, fp64, blocked: each panel of {@link #NB} columns is
 * factored column by column, then applied to the rest of the matrix as one compact-WY block reflector
 * (two GEMMs). Lifecycle: {@code Qr.factor(a, m, n)} (a is consumed), then {@link #r()}, {@link #q()},
 * {@link #applyQTranspose} or {@link #solveLeastSquares}.
 */
public final class Qr {
    static final int NB = 32;
    /** Reflectors per block when applying or forming Q (wider blocks: less memory-bound updates). */
    static final int APPLY_NB = 128;

    private final int m;
    private final int n;
    private final double[] a; // (m, n): R on and above the diagonal, reflector tails below
    private final double[] tau; // (n)

    private Qr(int m, int n, double[] a, double[] tau) {
        this.m = m;
        this.n = n;
        this.a = a;
        this.tau = tau;
    }

    /**
     * Factors A = QR in place.
     *
     * @param a (m, n) row-major, m ≥ n; consumed (it becomes the factored form)
     */
    public static Qr factor(double[] a, int m, int n) {
        if (m < n || a.length < (long) m * n) {
            throw new IllegalArgumentException("QR needs an (m, n) matrix with m ≥ n, got (" + m + ", " + n + ") and " + a.length + " values");
        }
        double[] tau = new double[n];
        double[] beta = new double[1];
        for (int j0 = 0; j0 < n; j0 += NB) {
            int jb = Math.min(NB, n - j0);
            for (int j = j0; j < j0 + jb; j++) {
                int d = j * n + j;
                tau[j] = Householder.generate(a[d], a, d + n, n, m - j - 1, beta);
                a[d] = beta[0];
                if (tau[j] != 0.0 && j + 1 < j0 + jb) {
                    applyReflectorToColumns(a, m, n, j, tau[j], j + 1, j0 + jb);
                }
            }
            if (j0 + jb < n) {
                int len = m - j0;
                double[] v = denseV(a, n, j0, jb, len);
                double[] t = new double[jb * jb];
                Householder.formT(len, jb, v, tau, j0, t);
                Householder.applyLeft(true, len, jb, v, t, a, j0 * n + j0 + jb, n, n - j0 - jb);
            }
        }
        return new Qr(m, n, a, tau);
    }

    /** Applies H_j = I − τ v vᵀ (v in column j below the diagonal) to columns [c0, c1) of rows j..m. */
    private static void applyReflectorToColumns(double[] a, int m, int n, int j, double tau, int c0, int c1) {
        int w = c1 - c0;
        double[] s = new double[w];
        for (int r = j; r < m; r++) {
            double vr = r == j ? 1.0 : a[r * n + j];
            int ro = r * n + c0;
            for (int c = 0; c < w; c++) {
                s[c] += vr * a[ro + c];
            }
        }
        for (int r = j; r < m; r++) {
            double f = -tau * (r == j ? 1.0 : a[r * n + j]);
            int ro = r * n + c0;
            for (int c = 0; c < w; c++) {
                a[ro + c] += f * s[c];
            }
        }
    }

    /** Dense (len, jb) copy of the unit lower trapezoidal reflector block starting at (j0, j0). */
    private static double[] denseV(double[] a, int n, int j0, int jb, int len) {
        double[] v = new double[len * jb];
        for (int r = 0; r < len; r++) {
            int src = (j0 + r) * n + j0;
            int dst = r * jb;
            for (int c = 0; c < jb; c++) {
                v[dst + c] = r > c ? a[src + c] : (r == c ? 1.0 : 0.0);
            }
        }
        return v;
    }

    public int rows() {
        return m;
    }

    public int cols() {
        return n;
    }

    /** R (n, n), upper triangular, fresh. */
    public double[] r() {
        double[] r = new double[n * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a, i * n + i, r, i * n + i, n - i);
        }
        return r;
    }

    /** The thin Q (m, n) with orthonormal columns, fresh. */
    public double[] q() {
        double[] q = new double[m * n];
        for (int i = 0; i < n; i++) {
            q[i * n + i] = 1.0;
        }
        int lastStart = ((n - 1) / APPLY_NB) * APPLY_NB;
        for (int j0 = lastStart; j0 >= 0; j0 -= APPLY_NB) {
            int jb = Math.min(APPLY_NB, n - j0);
            int len = m - j0;
            double[] v = denseV(a, n, j0, jb, len);
            double[] t = new double[jb * jb];
            Householder.formT(len, jb, v, tau, j0, t);
            Householder.applyLeft(false, len, jb, v, t, q, j0 * n + j0, n, n - j0);
        }
        return q;
    }

    /** B ← Q B for the full (m, m) Q; B (m, nb), modified. */
    public void applyQ(double[] b, int nb) {
        int lastStart = ((n - 1) / APPLY_NB) * APPLY_NB;
        for (int j0 = lastStart; j0 >= 0; j0 -= APPLY_NB) {
            int jb = Math.min(APPLY_NB, n - j0);
            int len = m - j0;
            double[] v = denseV(a, n, j0, jb, len);
            double[] t = new double[jb * jb];
            Householder.formT(len, jb, v, tau, j0, t);
            Householder.applyLeft(false, len, jb, v, t, b, j0 * nb, nb, nb);
        }
    }

    /** B ← Qᵀ B for the full (m, m) Q; B (m, nb), modified. */
    public void applyQTranspose(double[] b, int nb) {
        for (int j0 = 0; j0 < n; j0 += APPLY_NB) {
            int jb = Math.min(APPLY_NB, n - j0);
            int len = m - j0;
            double[] v = denseV(a, n, j0, jb, len);
            double[] t = new double[jb * jb];
            Householder.formT(len, jb, v, tau, j0, t);
            Householder.applyLeft(true, len, jb, v, t, b, j0 * nb, nb, nb);
        }
    }

    /**
     * Least-squares solution of min ‖A X − B‖_F, X (n, nb), for A of full column rank.
     *
     * @param b (m, nb); not modified
     * @throws ArithmeticException if A is numerically rank deficient: some |R_ii| ≤ max(m, n)·ε·max|R_jj|
     */
    public double[] solveLeastSquares(double[] b, int nb) {
        double[] qtb = b.clone();
        applyQTranspose(qtb, nb);
        double rmax = 0.0;
        for (int i = 0; i < n; i++) {
            rmax = Math.max(rmax, Math.abs(a[i * n + i]));
        }
        double tol = Math.max(m, n) * Math.ulp(1.0) * rmax;
        for (int i = 0; i < n; i++) {
            if (!(Math.abs(a[i * n + i]) > tol)) {
                throw new ArithmeticException("least squares: the (" + m + ", " + n + ") matrix is numerically rank deficient (|R["
                        + i + "][" + i + "]| = " + Math.abs(a[i * n + i]) + " ≤ " + tol + ")");
            }
        }
        double[] x = java.util.Arrays.copyOf(qtb, n * nb);
        Triangular.solveUpper(r(), n, x, nb);
        return x;
    }
}
