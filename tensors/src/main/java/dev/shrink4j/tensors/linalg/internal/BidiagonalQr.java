package dev.shrink4j.tensors.linalg.internal;

/**
 * Singular values and vectors of an upper bidiagonal B (n, n) by implicit-shift QR (Golub–Kahan
 * with the deflation cases of LINPACK's dsvdc): zero-chasing for negligible diagonal entries,
 * Wilkinson-type shift from the trailing 2 × 2, convergence when |e_k| ≤ ε(|d_k| + |d_{k+1}|).
 * The rotations are logged and replayed onto Uᵀ and Vᵀ in cache-sized strips ({@link RotationLog}).
 */
public final class BidiagonalQr {
    private static final double EPS = Math.ulp(1.0);
    private static final double TINY = Math.pow(2.0, -966.0);

    private BidiagonalQr() {}

    /**
     * Diagonalizes B in place: on return {@code d} holds the singular values (non-negative, sorted
     * descending), and the rows of {@code ut} and {@code vt} have received the left/right rotations,
     * permuted and sign-fixed to match.
     *
     * @param d  (n) diagonal of B; modified
     * @param e  (n) superdiagonal, e[n−1] = 0; destroyed
     * @param ut (n, utCols) rows rotated as Uᵀ; modified (may be null)
     * @param vt (n, vtCols) rows rotated as Vᵀ; modified (may be null)
     * @throws ArithmeticException if the iteration does not converge (never seen on finite input)
     */
    public static void diagonalize(int n, double[] d, double[] e, double[] ut, int utCols, double[] vt, int vtCols) {
        RotationLog lu = ut == null ? null : new RotationLog(ut, utCols);
        RotationLog lv = vt == null ? null : new RotationLog(vt, vtCols);
        if (n > 0) {
            e[n - 1] = 0.0;
        }
        boolean[] negate = new boolean[n];
        int p = n;
        long iter = 0;
        long maxIter = 40L * n + 1000; // sweeps and deflations; ≈ 2n are typical
        while (p > 0) {
            if (++iter > maxIter) {
                throw new ArithmeticException("bidiagonal SVD did not converge");
            }
            int k;
            int kase;
            for (k = p - 2; k >= -1; k--) {
                if (k == -1) {
                    break;
                }
                if (Math.abs(e[k]) <= TINY + EPS * (Math.abs(d[k]) + Math.abs(d[k + 1]))) {
                    e[k] = 0.0;
                    break;
                }
            }
            if (k == p - 2) {
                kase = 4;
            } else {
                int ks;
                for (ks = p - 1; ks >= k; ks--) {
                    if (ks == k) {
                        break;
                    }
                    double t = (ks != p ? Math.abs(e[ks]) : 0.0) + (ks != k + 1 ? Math.abs(e[ks - 1]) : 0.0);
                    if (Math.abs(d[ks]) <= TINY + EPS * t) {
                        d[ks] = 0.0;
                        break;
                    }
                }
                if (ks == k) {
                    kase = 3;
                } else if (ks == p - 1) {
                    kase = 1;
                } else {
                    kase = 2;
                    k = ks;
                }
            }
            k++;
            switch (kase) {
                case 1 -> { // d[p−1] negligible: chase e[p−2] up with right rotations
                    double f = e[p - 2];
                    e[p - 2] = 0.0;
                    for (int j = p - 2; j >= k; j--) {
                        double t = Math.hypot(d[j], f);
                        double c = d[j] / t;
                        double s = f / t;
                        d[j] = t;
                        if (j != k) {
                            f = -s * e[j - 1];
                            e[j - 1] = c * e[j - 1];
                        }
                        if (lv != null) {
                            lv.rotate(j, p - 1, c, s);
                        }
                    }
                }
                case 2 -> { // d[k−1] negligible: split, chase e[k−1] right with left rotations
                    double f = e[k - 1];
                    e[k - 1] = 0.0;
                    for (int j = k; j < p; j++) {
                        double t = Math.hypot(d[j], f);
                        double c = d[j] / t;
                        double s = f / t;
                        d[j] = t;
                        f = -s * e[j];
                        e[j] = c * e[j];
                        if (lu != null) {
                            lu.rotate(j, k - 1, c, s);
                        }
                    }
                }
                case 3 -> qrStep(d, e, k, p, lu, lv);
                default -> { // d[k] converged
                    if (d[k] <= 0.0) {
                        d[k] = d[k] < 0.0 ? -d[k] : 0.0;
                        negate[k] = !negate[k];
                    }
                    p--;
                }
            }
        }
        if (lu != null) {
            lu.flush();
        }
        if (lv != null) {
            lv.flush();
            for (int i = 0; i < n; i++) {
                if (negate[i]) {
                    int o = i * vtCols;
                    for (int j = 0; j < vtCols; j++) {
                        vt[o + j] = -vt[o + j];
                    }
                }
            }
        }
        sortDescending(n, d, ut, utCols, vt, vtCols);
    }

    /** One implicit-shift QR sweep on the unreduced block d[k..p−1]. */
    private static void qrStep(double[] d, double[] e, int k, int p, RotationLog lu, RotationLog lv) {
        double scale = Math.max(Math.max(Math.max(Math.max(
                Math.abs(d[p - 1]), Math.abs(d[p - 2])), Math.abs(e[p - 2])), Math.abs(d[k])), Math.abs(e[k]));
        double sp = d[p - 1] / scale;
        double spm1 = d[p - 2] / scale;
        double epm1 = e[p - 2] / scale;
        double sk = d[k] / scale;
        double ek = e[k] / scale;
        double b = ((spm1 + sp) * (spm1 - sp) + epm1 * epm1) / 2.0;
        double cc = (sp * epm1) * (sp * epm1);
        double shift = 0.0;
        if (b != 0.0 || cc != 0.0) {
            shift = Math.sqrt(b * b + cc);
            if (b < 0.0) {
                shift = -shift;
            }
            shift = cc / (b + shift);
        }
        double f = (sk + sp) * (sk - sp) + shift;
        double g = sk * ek;
        for (int j = k; j < p - 1; j++) {
            double t = Math.hypot(f, g);
            double c = f / t;
            double s = g / t;
            if (j != k) {
                e[j - 1] = t;
            }
            f = c * d[j] + s * e[j];
            e[j] = c * e[j] - s * d[j];
            g = s * d[j + 1];
            d[j + 1] = c * d[j + 1];
            if (lv != null) {
                lv.rotate(j, j + 1, c, s);
            }
            t = Math.hypot(f, g);
            c = f / t;
            s = g / t;
            d[j] = t;
            f = c * e[j] + s * d[j + 1];
            d[j + 1] = -s * e[j] + c * d[j + 1];
            g = s * e[j + 1];
            e[j + 1] = c * e[j + 1];
            if (lu != null) {
                lu.rotate(j, j + 1, c, s);
            }
        }
        e[p - 2] = f;
    }

    private static void sortDescending(int n, double[] d, double[] ut, int utCols, double[] vt, int vtCols) {
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(d[y], d[x]));
        boolean sorted = true;
        for (int i = 0; i < n && sorted; i++) {
            sorted = order[i] == i;
        }
        if (sorted) {
            return;
        }
        double[] ds = new double[n];
        for (int i = 0; i < n; i++) {
            ds[i] = d[order[i]];
        }
        System.arraycopy(ds, 0, d, 0, n);
        permuteRows(order, ut, utCols);
        permuteRows(order, vt, vtCols);
    }

    private static void permuteRows(Integer[] order, double[] m, int cols) {
        if (m == null) {
            return;
        }
        int n = order.length;
        double[] copy = java.util.Arrays.copyOf(m, n * cols);
        for (int i = 0; i < n; i++) {
            System.arraycopy(copy, order[i] * cols, m, i * cols, cols);
        }
    }
}
