package dev.shrink4j.tensors.linalg;

import dev.shrink4j.tensors.linalg.internal.Blas;

/**
 * Triangular solves, products and inverses on row-major (n, n) factors, fp64. "Upper" routines read
 * only the upper triangle (diagonal included), "lower" routines only the lower one. Right-hand sides
 * are (n, m) row-major blocks solved in place (m = 1 for a vector); all are recursive and GEMM-based.
 */
public final class Triangular {
    private Triangular() {}

    /** B ← U⁻¹B (solves U X = B). U (n, n) upper; B (n, m), modified. */
    public static void solveUpper(double[] u, int n, double[] b, int m) {
        check(u, n, b, n, m);
        Blas.trsmUpperLeft(n, m, u, 0, n, b, 0, m);
    }

    /** B ← U⁻ᵀB (solves Uᵀ X = B). U (n, n) upper; B (n, m), modified. */
    public static void solveUpperTransposed(double[] u, int n, double[] b, int m) {
        check(u, n, b, n, m);
        Blas.trsmUpperTransLeft(n, m, u, 0, n, b, 0, m);
    }

    /** B ← B U⁻¹ (solves X U = B). U (n, n) upper; B (m, n), modified. */
    public static void solveUpperRight(double[] u, int n, double[] b, int m) {
        check(u, n, b, m, n);
        Blas.trsmUpperRight(m, n, u, 0, n, b, 0, n);
    }

    /** B ← B U⁻ᵀ (solves X Uᵀ = B). U (n, n) upper; B (m, n), modified. */
    public static void solveUpperTransposedRight(double[] u, int n, double[] b, int m) {
        check(u, n, b, m, n);
        Blas.trsmUpperTransRight(m, n, u, 0, n, b, 0, n);
    }

    /** B ← B L⁻¹ (solves X L = B). L (n, n) lower; B (m, n), modified. */
    public static void solveLowerRight(double[] l, int n, double[] b, int m) {
        check(l, n, b, m, n);
        double[] u = Matrices.transpose(l, n, n); // X L = B ⇔ X (Lᵀ)ᵀ = B
        Blas.trsmUpperTransRight(m, n, u, 0, n, b, 0, n);
    }

    /** B ← L⁻¹B (solves L X = B). L (n, n) lower; B (n, m), modified. */
    public static void solveLower(double[] l, int n, double[] b, int m) {
        check(l, n, b, n, m);
        double[] u = Matrices.transpose(l, n, n); // Lᵀ is upper; L X = B ⇔ (Lᵀ)ᵀ X = B
        Blas.trsmUpperTransLeft(n, m, u, 0, n, b, 0, m);
    }

    /** B ← L⁻ᵀB (solves Lᵀ X = B). L (n, n) lower; B (n, m), modified. */
    public static void solveLowerTransposed(double[] l, int n, double[] b, int m) {
        check(l, n, b, n, m);
        double[] u = Matrices.transpose(l, n, n);
        Blas.trsmUpperLeft(n, m, u, 0, n, b, 0, m);
    }

    /** U ← U⁻¹ in place (upper triangle; the strictly lower triangle is left as it was). */
    public static void invertUpper(double[] u, int n) {
        check(u, n, u, n, n);
        Blas.trtriUpper(n, u, 0, n);
    }

    /** L ← L⁻¹ in place (lower triangle; the strictly upper triangle is left as it was). */
    public static void invertLower(double[] l, int n) {
        check(l, n, l, n, n);
        double[] u = Matrices.transpose(l, n, n);
        Blas.trtriUpper(n, u, 0, n);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                l[i * n + j] = u[j * n + i];
            }
        }
    }

    /** B ← B U for U (n, n) upper and B (m, n), modified. */
    public static void multiplyUpperRight(double[] u, int n, double[] b, int m) {
        check(u, n, b, m, n);
        Blas.trmmUpperRight(m, n, u, 0, n, b, 0, n);
    }

    private static void check(double[] t, int n, double[] b, int rows, int cols) {
        if (t.length < (long) n * n) {
            throw new IllegalArgumentException("triangular factor: expected (" + n + ", " + n + "), got " + t.length + " values");
        }
        if (b.length < (long) rows * cols) {
            throw new IllegalArgumentException("right-hand side: expected (" + rows + ", " + cols + "), got " + b.length + " values");
        }
    }
}
