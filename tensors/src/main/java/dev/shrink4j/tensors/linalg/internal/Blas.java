package dev.shrink4j.tensors.linalg.internal;

/**
 * Recursive level-3 building blocks on row-major fp64 blocks addressed as (array, offset, leading
 * dimension). Each splits its triangular operand in halves until a leaf of {@link #LEAF} rows, so
 * almost all flops land in {@link Dgemm}. Triangular operands are read from the named triangle only.
 */
public final class Blas {
    /** Leaf size of the recursions: small enough for L1/L2, large enough that GEMM dominates. */
    static final int LEAF = 48;

    private Blas() {}

    private static int half(int n) {
        int h = n / 2;
        return h >= 8 ? (h / 8) * 8 : h;
    }

    /**
     * Upper Cholesky in place: A = UᵀU. Reads and writes the upper triangle of the (n, n) block; the
     * strictly lower triangle is used as scratch and left undefined.
     *
     * @return −1 on success, else the 0-based index of the first pivot that was not positive
     */
    public static int potrfUpper(int n, double[] a, int o, int ld) {
        if (n <= LEAF) {
            return potrfUpperLeaf(n, a, o, ld);
        }
        int n1 = half(n);
        int n2 = n - n1;
        int p = potrfUpper(n1, a, o, ld);
        if (p >= 0) {
            return p;
        }
        int o12 = o + n1;
        int o22 = o + n1 * ld + n1;
        trsmUpperTransLeft(n1, n2, a, o, ld, a, o12, ld);
        syrkUpperMinus(n2, n1, a, o12, ld, a, o22, ld);
        p = potrfUpper(n2, a, o22, ld);
        return p >= 0 ? n1 + p : -1;
    }

    private static int potrfUpperLeaf(int n, double[] a, int o, int ld) {
        for (int k = 0; k < n; k++) {
            int rk = o + k * ld;
            double d = a[rk + k];
            if (!(d > 0.0) || Double.isInfinite(d)) {
                return k;
            }
            double u = Math.sqrt(d);
            a[rk + k] = u;
            double inv = 1.0 / u;
            for (int j = k + 1; j < n; j++) {
                a[rk + j] *= inv;
            }
            for (int i = k + 1; i < n; i++) {
                double f = a[rk + i];
                if (f == 0.0) {
                    continue;
                }
                int ri = o + i * ld;
                for (int j = i; j < n; j++) {
                    a[ri + j] -= f * a[rk + j];
                }
            }
        }
        return -1;
    }

    /** B ← U⁻ᵀ B: solves Uᵀ X = B for U (n, n) upper and B (n, m). */
    public static void trsmUpperTransLeft(int n, int m, double[] u, int uo, int ldu, double[] b, int bo, int ldb) {
        if (n <= LEAF) {
            for (int i = 0; i < n; i++) {
                int ri = bo + i * ldb;
                double inv = 1.0 / u[uo + i * ldu + i];
                for (int j = 0; j < m; j++) {
                    b[ri + j] *= inv;
                }
                for (int r = i + 1; r < n; r++) {
                    double f = u[uo + i * ldu + r];
                    if (f == 0.0) {
                        continue;
                    }
                    int rr = bo + r * ldb;
                    for (int j = 0; j < m; j++) {
                        b[rr + j] -= f * b[ri + j];
                    }
                }
            }
            return;
        }
        int n1 = half(n);
        int n2 = n - n1;
        trsmUpperTransLeft(n1, m, u, uo, ldu, b, bo, ldb);
        Dgemm.gemm(true, false, n2, m, n1, -1.0, u, uo + n1, ldu, b, bo, ldb, 1.0, b, bo + n1 * ldb, ldb);
        trsmUpperTransLeft(n2, m, u, uo + n1 * ldu + n1, ldu, b, bo + n1 * ldb, ldb);
    }

    /** B ← U⁻¹ B: solves U X = B for U (n, n) upper and B (n, m). */
    public static void trsmUpperLeft(int n, int m, double[] u, int uo, int ldu, double[] b, int bo, int ldb) {
        if (n <= LEAF) {
            for (int i = n - 1; i >= 0; i--) {
                int ri = bo + i * ldb;
                double inv = 1.0 / u[uo + i * ldu + i];
                for (int j = 0; j < m; j++) {
                    b[ri + j] *= inv;
                }
                for (int r = 0; r < i; r++) {
                    double f = u[uo + r * ldu + i];
                    if (f == 0.0) {
                        continue;
                    }
                    int rr = bo + r * ldb;
                    for (int j = 0; j < m; j++) {
                        b[rr + j] -= f * b[ri + j];
                    }
                }
            }
            return;
        }
        int n1 = half(n);
        int n2 = n - n1;
        trsmUpperLeft(n2, m, u, uo + n1 * ldu + n1, ldu, b, bo + n1 * ldb, ldb);
        Dgemm.gemm(false, false, n1, m, n2, -1.0, u, uo + n1, ldu, b, bo + n1 * ldb, ldb, 1.0, b, bo, ldb);
        trsmUpperLeft(n1, m, u, uo, ldu, b, bo, ldb);
    }

    /** B ← B U⁻¹: solves X U = B for U (n, n) upper and B (m, n). */
    public static void trsmUpperRight(int m, int n, double[] u, int uo, int ldu, double[] b, int bo, int ldb) {
        if (n <= LEAF) {
            for (int r = 0; r < m; r++) {
                int rb = bo + r * ldb;
                for (int j = 0; j < n; j++) {
                    double x = b[rb + j] / u[uo + j * ldu + j];
                    b[rb + j] = x;
                    if (x == 0.0) {
                        continue;
                    }
                    int ru = uo + j * ldu;
                    for (int q = j + 1; q < n; q++) {
                        b[rb + q] -= x * u[ru + q];
                    }
                }
            }
            return;
        }
        int n1 = half(n);
        int n2 = n - n1;
        trsmUpperRight(m, n1, u, uo, ldu, b, bo, ldb);
        Dgemm.gemm(false, false, m, n2, n1, -1.0, b, bo, ldb, u, uo + n1, ldu, 1.0, b, bo + n1, ldb);
        trsmUpperRight(m, n2, u, uo + n1 * ldu + n1, ldu, b, bo + n1, ldb);
    }

    /** B ← B U⁻ᵀ: solves X Uᵀ = B for U (n, n) upper and B (m, n). */
    public static void trsmUpperTransRight(int m, int n, double[] u, int uo, int ldu, double[] b, int bo, int ldb) {
        if (n <= LEAF) {
            for (int r = 0; r < m; r++) {
                int rb = bo + r * ldb;
                for (int j = n - 1; j >= 0; j--) {
                    int ru = uo + j * ldu;
                    double s = b[rb + j];
                    for (int q = j + 1; q < n; q++) {
                        s -= b[rb + q] * u[ru + q];
                    }
                    b[rb + j] = s / u[ru + j];
                }
            }
            return;
        }
        int n1 = half(n);
        int n2 = n - n1;
        trsmUpperTransRight(m, n2, u, uo + n1 * ldu + n1, ldu, b, bo + n1, ldb);
        Dgemm.gemm(false, true, m, n1, n2, -1.0, b, bo + n1, ldb, u, uo + n1, ldu, 1.0, b, bo, ldb);
        trsmUpperTransRight(m, n1, u, uo, ldu, b, bo, ldb);
    }

    /** Upper triangle of C (n, n) ← C − Aᵀ A for A (k, n). The strictly lower triangle of C may be touched. */
    public static void syrkUpperMinus(int n, int k, double[] a, int ao, int lda, double[] c, int co, int ldc) {
        if (n <= 2 * LEAF) {
            Dgemm.gemm(true, false, n, n, k, -1.0, a, ao, lda, a, ao, lda, 1.0, c, co, ldc);
            return;
        }
        int n1 = half(n);
        int n2 = n - n1;
        syrkUpperMinus(n1, k, a, ao, lda, c, co, ldc);
        Dgemm.gemm(true, false, n1, n2, k, -1.0, a, ao, lda, a, ao + n1, lda, 1.0, c, co + n1, ldc);
        syrkUpperMinus(n2, k, a, ao + n1, lda, c, co + n1 * ldc + n1, ldc);
    }

    /** B ← B U for U (n, n) upper and B (m, n). */
    public static void trmmUpperRight(int m, int n, double[] u, int uo, int ldu, double[] b, int bo, int ldb) {
        if (n <= LEAF) {
            double[] tmp = new double[n];
            for (int r = 0; r < m; r++) {
                int rb = bo + r * ldb;
                java.util.Arrays.fill(tmp, 0.0);
                for (int p = 0; p < n; p++) {
                    double x = b[rb + p];
                    if (x == 0.0) {
                        continue;
                    }
                    int ru = uo + p * ldu;
                    for (int j = p; j < n; j++) {
                        tmp[j] += x * u[ru + j];
                    }
                }
                System.arraycopy(tmp, 0, b, rb, n);
            }
            return;
        }
        int n1 = half(n);
        int n2 = n - n1;
        trmmUpperRight(m, n2, u, uo + n1 * ldu + n1, ldu, b, bo + n1, ldb);
        Dgemm.gemm(false, false, m, n2, n1, 1.0, b, bo, ldb, u, uo + n1, ldu, 1.0, b, bo + n1, ldb);
        trmmUpperRight(m, n1, u, uo, ldu, b, bo, ldb);
    }

    /** Upper U (n, n) ← U⁻¹ in place (upper triangle only). */
    public static void trtriUpper(int n, double[] u, int o, int ld) {
        if (n <= LEAF) {
            for (int j = 0; j < n; j++) {
                u[o + j * ld + j] = 1.0 / u[o + j * ld + j];
            }
            // column j of the inverse from the already inverted leading block: X[0:j, j] = −X[0:j,0:j] U[0:j, j] / U_jj
            for (int j = 1; j < n; j++) {
                double xjj = u[o + j * ld + j];
                for (int i = 0; i < j; i++) {
                    double s = 0.0;
                    for (int p = i; p < j; p++) {
                        s += u[o + i * ld + p] * u[o + p * ld + j];
                    }
                    u[o + i * ld + j] = -s * xjj;
                }
            }
            return;
        }
        int n1 = half(n);
        int n2 = n - n1;
        int o12 = o + n1;
        int o22 = o + n1 * ld + n1;
        // X12 = −U11⁻¹ U12 U22⁻¹
        trsmUpperRight(n1, n2, u, o22, ld, u, o12, ld);
        trsmUpperLeft(n1, n2, u, o, ld, u, o12, ld);
        for (int i = 0; i < n1; i++) {
            int r = o12 + i * ld;
            for (int j = 0; j < n2; j++) {
                u[r + j] = -u[r + j];
            }
        }
        trtriUpper(n1, u, o, ld);
        trtriUpper(n2, u, o22, ld);
    }

    /** B ← B Uᵀ for U (n, n) upper and B (m, n). */
    public static void trmmUpperTransRight(int m, int n, double[] u, int uo, int ldu, double[] b, int bo, int ldb) {
        if (n <= LEAF) {
            for (int r = 0; r < m; r++) {
                int rb = bo + r * ldb;
                for (int j = 0; j < n; j++) {
                    int ru = uo + j * ldu;
                    double s = 0.0;
                    for (int q = j; q < n; q++) {
                        s += b[rb + q] * u[ru + q];
                    }
                    b[rb + j] = s;
                }
            }
            return;
        }
        int n1 = half(n);
        int n2 = n - n1;
        trmmUpperTransRight(m, n1, u, uo, ldu, b, bo, ldb);
        Dgemm.gemm(false, true, m, n1, n2, 1.0, b, bo + n1, ldb, u, uo + n1, ldu, 1.0, b, bo, ldb);
        trmmUpperTransRight(m, n2, u, uo + n1 * ldu + n1, ldu, b, bo + n1, ldb);
    }

    /** Upper triangle of C (n, n) ← C + A Aᵀ for A (n, k). The strictly lower triangle of C may be touched. */
    public static void syrkUpperPlusNoTrans(int n, int k, double[] a, int ao, int lda, double[] c, int co, int ldc) {
        if (n <= 2 * LEAF) {
            Dgemm.gemm(false, true, n, n, k, 1.0, a, ao, lda, a, ao, lda, 1.0, c, co, ldc);
            return;
        }
        int n1 = half(n);
        int n2 = n - n1;
        syrkUpperPlusNoTrans(n1, k, a, ao, lda, c, co, ldc);
        Dgemm.gemm(false, true, n1, n2, k, 1.0, a, ao, lda, a, ao + n1 * lda, lda, 1.0, c, co + n1, ldc);
        syrkUpperPlusNoTrans(n2, k, a, ao + n1 * lda, lda, c, co + n1 * ldc + n1, ldc);
    }

    /** Upper triangle of X (n, n) upper ← X Xᵀ in place (LAPACK's lauum). */
    public static void lauumUpper(int n, double[] x, int o, int ld) {
        if (n <= LEAF) {
            for (int i = 0; i < n; i++) {
                for (int j = i; j < n; j++) {
                    double s = 0.0;
                    for (int p = j; p < n; p++) {
                        s += x[o + i * ld + p] * x[o + j * ld + p];
                    }
                    x[o + i * ld + j] = s;
                }
            }
            return;
        }
        int n1 = half(n);
        int n2 = n - n1;
        int o12 = o + n1;
        int o22 = o + n1 * ld + n1;
        lauumUpper(n1, x, o, ld);
        syrkUpperPlusNoTrans(n1, n2, x, o12, ld, x, o, ld);
        trmmUpperTransRight(n1, n2, x, o22, ld, x, o12, ld);
        lauumUpper(n2, x, o22, ld);
    }
}
