package dev.shrink4j.tensors.linalg;

import java.util.Random;

/** Seeded test matrices: Gaussian, random orthogonal, prescribed spectra. */
final class Gen {
    private Gen() {}

    static double[] gaussian(Random rnd, int rows, int cols) {
        double[] a = new double[rows * cols];
        for (int i = 0; i < a.length; i++) {
            a[i] = rnd.nextGaussian();
        }
        return a;
    }

    /** A random (n, k) matrix with orthonormal columns (k ≤ n): k random Householder reflectors applied to [I; 0]. */
    static double[] orthonormalColumns(Random rnd, int n, int k) {
        double[] q = new double[n * k];
        for (int i = 0; i < k; i++) {
            q[i * k + i] = 1.0;
        }
        for (int r = 0; r < Math.min(n, k + 2); r++) {
            double[] v = new double[n];
            double nn = 0;
            for (int i = 0; i < n; i++) {
                v[i] = rnd.nextGaussian();
                nn += v[i] * v[i];
            }
            double inv = 1 / Math.sqrt(nn);
            for (int i = 0; i < n; i++) {
                v[i] *= inv;
            }
            for (int j = 0; j < k; j++) {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += v[i] * q[i * k + j];
                }
                for (int i = 0; i < n; i++) {
                    q[i * k + j] -= 2 * s * v[i];
                }
            }
        }
        return q;
    }

    /** U diag(s) Vᵀ with random orthonormal U (m, k), V (n, k), k = s.length. */
    static double[] withSingularValues(Random rnd, int m, int n, double[] s) {
        int k = s.length;
        double[] u = orthonormalColumns(rnd, m, k);
        double[] v = orthonormalColumns(rnd, n, k);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < k; j++) {
                u[i * k + j] *= s[j];
            }
        }
        return Matrices.multiply(u, false, v, true, m, n, k);
    }

    /** Q diag(λ) Qᵀ for a random orthogonal Q (n, n). */
    static double[] symmetricWithEigenvalues(Random rnd, double[] lambda) {
        int n = lambda.length;
        double[] q = orthonormalColumns(rnd, n, n);
        double[] ql = q.clone();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                ql[i * n + j] *= lambda[j];
            }
        }
        double[] a = Matrices.multiply(ql, false, q, true, n, n, n);
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double m = 0.5 * (a[i * n + j] + a[j * n + i]);
                a[i * n + j] = m;
                a[j * n + i] = m;
            }
        }
        return a;
    }

    /** Geometric spectrum from 1 down to 1/cond over n values. */
    static double[] geometric(int n, double cond) {
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = n == 1 ? 1 : Math.pow(cond, -(double) i / (n - 1));
        }
        return s;
    }

    /** ‖A − B‖_F / ‖B‖_F. */
    static double relDiff(double[] a, double[] b) {
        double[] d = new double[b.length];
        for (int i = 0; i < b.length; i++) {
            d[i] = a[i] - b[i];
        }
        return Matrices.frobenius(d) / Matrices.frobenius(b);
    }

    /** max |QᵀQ − I| for Q (rows, cols). */
    static double orthogonalityError(double[] q, int rows, int cols) {
        double[] g = Matrices.multiply(q, true, q, false, cols, cols, rows);
        double e = 0;
        for (int i = 0; i < cols; i++) {
            for (int j = 0; j < cols; j++) {
                e = Math.max(e, Math.abs(g[i * cols + j] - (i == j ? 1 : 0)));
            }
        }
        return e;
    }
}
