package dev.shrink4j.tensors.linalg;

import dev.shrink4j.tensors.linalg.internal.Dgemm;

/** Small helpers on row-major fp64 matrices stored as {@code double[]} plus dimensions. */
public final class Matrices {
    private Matrices() {}

    /** C = op(A)·op(B), a fresh (m, n) array. A is (m, k) or (k, m) if transposed; B is (k, n) or (n, k). */
    public static double[] multiply(double[] a, boolean transA, double[] b, boolean transB, int m, int n, int k) {
        double[] c = new double[Math.multiplyExact(m, n)];
        gemm(transA, transB, m, n, k, 1.0, a, b, 0.0, c);
        return c;
    }

    /** C ← β·C + α·op(A)·op(B) on dense row-major arrays (leading dimensions are the natural ones). */
    public static void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                            double[] a, double[] b, double beta, double[] c) {
        Dgemm.gemm(transA, transB, m, n, k, alpha, a, 0, transA ? m : k, b, 0, transB ? k : n, beta, c, 0, n);
    }

    /** (cols, rows) transpose of an (rows, cols) matrix. */
    public static double[] transpose(double[] a, int rows, int cols) {
        double[] t = new double[a.length == 0 ? 0 : rows * cols];
        final int blk = 32;
        for (int i0 = 0; i0 < rows; i0 += blk) {
            int i1 = Math.min(rows, i0 + blk);
            for (int j0 = 0; j0 < cols; j0 += blk) {
                int j1 = Math.min(cols, j0 + blk);
                for (int i = i0; i < i1; i++) {
                    for (int j = j0; j < j1; j++) {
                        t[j * rows + i] = a[i * cols + j];
                    }
                }
            }
        }
        return t;
    }

    /** In-place transpose of an (n, n) matrix. */
    public static void transposeInPlace(double[] a, int n) {
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double t = a[i * n + j];
                a[i * n + j] = a[j * n + i];
                a[j * n + i] = t;
            }
        }
    }

    /** The (n, n) identity. */
    public static double[] identity(int n) {
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            a[i * n + i] = 1.0;
        }
        return a;
    }

    /** Copies the upper triangle onto the lower one, making an (n, n) matrix exactly symmetric. */
    public static void symmetrizeFromUpper(double[] a, int n) {
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                a[j * n + i] = a[i * n + j];
            }
        }
    }

    /** Frobenius norm, accumulated with scaling so huge or tiny entries neither overflow nor underflow. */
    public static double frobenius(double[] a) {
        double scale = 0.0;
        double ssq = 1.0;
        for (double v : a) {
            if (v != 0.0) {
                double x = Math.abs(v);
                if (scale < x) {
                    ssq = 1.0 + ssq * (scale / x) * (scale / x);
                    scale = x;
                } else {
                    ssq += (x / scale) * (x / scale);
                }
            }
        }
        return scale * Math.sqrt(ssq);
    }

    /**
     * Throws {@link IllegalArgumentException} naming {@code what} and the first (row, col) of a NaN or
     * infinite entry of the (rows, cols) matrix: iterative decompositions would not converge on them.
     */
    public static void requireFinite(double[] a, int rows, int cols, String what) {
        int len = rows * cols;
        for (int i = 0; i < len; i++) {
            if (!Double.isFinite(a[i])) {
                throw new IllegalArgumentException(what + ": entry (" + i / cols + ", " + i % cols + ") is " + a[i]
                        + "; the (" + rows + ", " + cols + ") matrix must be finite");
            }
        }
    }

    /** Mean of the diagonal of an (n, n) matrix. */
    public static double meanDiagonal(double[] a, int n) {
        double s = 0.0;
        for (int i = 0; i < n; i++) {
            s += a[i * n + i];
        }
        return n == 0 ? 0.0 : s / n;
    }
}
