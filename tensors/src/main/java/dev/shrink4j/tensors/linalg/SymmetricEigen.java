package dev.shrink4j.tensors.linalg;

import dev.shrink4j.tensors.linalg.internal.RotationLog;

/**
 * Eigendecomposition A = V diag(λ) Vᵀ of a symmetric (n, n) matrix, fp64: Householder reduction to
 * tridiagonal form then implicit QL with Wilkinson shifts (the EISPACK tred2/tql2 pair, as in JAMA),
 * with the working matrix kept transposed so every inner loop is contiguous in row-major storage and
 * the QL rotations replayed in strips ({@link RotationLog}). O(n³), level-2 bound: meant for the
 * small and medium matrices of the methods (n up to a few thousand).
 *
 * @param n       order
 * @param values  (n) eigenvalues, ascending
 * @param vectors (n, n) eigenvectors as columns: A·V[:, j] = λ_j·V[:, j]
 */
public record SymmetricEigen(int n, double[] values, double[] vectors) {
    private static final double EPS = Math.ulp(1.0);

    /** Decomposes A (n, n); only its lower triangle is read (equivalently the upper: A is symmetric). A is not modified. */
    public static SymmetricEigen of(double[] a, int n) {
        Cholesky.checkSquare(a, n);
        Matrices.requireFinite(a, n, n, "symmetric eigen input");
        if (n == 0) {
            return new SymmetricEigen(0, new double[0], new double[0]);
        }
        // w[j][k] = V[k][j] in JAMA's notation, so its column loops run along our rows.
        double[] w = Matrices.transpose(a, n, n);
        double[] d = new double[n];
        double[] e = new double[n];
        tred2(n, w, d, e);
        tql2(n, w, d, e);
        // sort ascending; rows of w are eigenvectors
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(d[x], d[y]));
        double[] values = new double[n];
        double[] vectors = new double[n * n];
        for (int j = 0; j < n; j++) {
            int src = order[j];
            values[j] = d[src];
            for (int k = 0; k < n; k++) {
                vectors[k * n + j] = w[src * n + k];
            }
        }
        return new SymmetricEigen(n, values, vectors);
    }

    /** Householder tridiagonalization; w holds Vᵀ (JAMA's V[k][j] is w[j·n + k]). */
    private static void tred2(int n, double[] w, double[] d, double[] e) {
        for (int j = 0; j < n; j++) {
            d[j] = w[j * n + n - 1];
        }
        for (int i = n - 1; i > 0; i--) {
            double scale = 0.0;
            double h = 0.0;
            for (int k = 0; k < i; k++) {
                scale += Math.abs(d[k]);
            }
            if (scale == 0.0) {
                e[i] = d[i - 1];
                for (int j = 0; j < i; j++) {
                    d[j] = w[j * n + i - 1];
                    w[j * n + i] = 0.0;
                    w[i * n + j] = 0.0;
                }
            } else {
                for (int k = 0; k < i; k++) {
                    d[k] /= scale;
                    h += d[k] * d[k];
                }
                double f = d[i - 1];
                double g = Math.sqrt(h);
                if (f > 0) {
                    g = -g;
                }
                e[i] = scale * g;
                h -= f * g;
                d[i - 1] = f - g;
                java.util.Arrays.fill(e, 0, i, 0.0);
                for (int j = 0; j < i; j++) {
                    f = d[j];
                    w[i * n + j] = f;
                    int wj = j * n;
                    g = e[j] + w[wj + j] * f;
                    for (int k = j + 1; k <= i - 1; k++) {
                        g += w[wj + k] * d[k];
                        e[k] += w[wj + k] * f;
                    }
                    e[j] = g;
                }
                f = 0.0;
                for (int j = 0; j < i; j++) {
                    e[j] /= h;
                    f += e[j] * d[j];
                }
                double hh = f / (h + h);
                for (int j = 0; j < i; j++) {
                    e[j] -= hh * d[j];
                }
                for (int j = 0; j < i; j++) {
                    f = d[j];
                    g = e[j];
                    int wj = j * n;
                    for (int k = j; k <= i - 1; k++) {
                        w[wj + k] -= f * e[k] + g * d[k];
                    }
                    d[j] = w[wj + i - 1];
                    w[wj + i] = 0.0;
                }
            }
            d[i] = h;
        }
        // accumulate transformations
        for (int i = 0; i < n - 1; i++) {
            w[i * n + n - 1] = w[i * n + i];
            w[i * n + i] = 1.0;
            double h = d[i + 1];
            int wi1 = (i + 1) * n;
            if (h != 0.0) {
                for (int k = 0; k <= i; k++) {
                    d[k] = w[wi1 + k] / h;
                }
                for (int j = 0; j <= i; j++) {
                    int wj = j * n;
                    double g = 0.0;
                    for (int k = 0; k <= i; k++) {
                        g += w[wi1 + k] * w[wj + k];
                    }
                    for (int k = 0; k <= i; k++) {
                        w[wj + k] -= g * d[k];
                    }
                }
            }
            for (int k = 0; k <= i; k++) {
                w[wi1 + k] = 0.0;
            }
        }
        for (int j = 0; j < n; j++) {
            d[j] = w[j * n + n - 1];
            w[j * n + n - 1] = 0.0;
        }
        w[(n - 1) * n + n - 1] = 1.0;
        e[0] = 0.0;
    }

    /** Implicit QL on the tridiagonal (d, e); rotations go to the rows of w. */
    private static void tql2(int n, double[] w, double[] d, double[] e) {
        RotationLog log = new RotationLog(w, n);
        for (int i = 1; i < n; i++) {
            e[i - 1] = e[i];
        }
        e[n - 1] = 0.0;
        double f = 0.0;
        double tst1 = 0.0;
        for (int l = 0; l < n; l++) {
            tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
            int m = l;
            while (m < n) {
                if (Math.abs(e[m]) <= EPS * tst1) {
                    break;
                }
                m++;
            }
            if (m > l) {
                int iter = 0;
                do {
                    if (++iter > 60 * n + 100) {
                        throw new ArithmeticException("symmetric eigen: QL iteration did not converge");
                    }
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2.0 * e[l]);
                    double r = Math.hypot(p, 1.0);
                    if (p < 0) {
                        r = -r;
                    }
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++) {
                        d[i] -= h;
                    }
                    f += h;
                    p = d[m];
                    double c = 1.0;
                    double c2 = c;
                    double c3 = c;
                    double el1 = e[l + 1];
                    double s = 0.0;
                    double s2 = 0.0;
                    for (int i = m - 1; i >= l; i--) {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = Math.hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        // V[:, i+1] ← s V[:, i] + c V[:, i+1]; V[:, i] ← c V[:, i] − s V[:, i+1]
                        log.rotate(i, i + 1, c, -s);
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                } while (Math.abs(e[l]) > EPS * tst1);
            }
            d[l] += f;
            e[l] = 0.0;
        }
        log.flush();
    }
}
