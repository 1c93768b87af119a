package dev.shrink4j.tensors.linalg;

import dev.shrink4j.tensors.linalg.internal.Blas;

/**
 * Cholesky factorization of a symmetric positive definite matrix, fp64, row-major (n, n) arrays.
 * Recursive blocked algorithm: the diagonal halves are factored recursively, the off-diagonal block
 * is a triangular solve and the trailing update a symmetric rank-k product, both on GEMM, so ≈ all of
 * the n³/3 flops run in the packed GEMM kernel.
 *
 * <p>Only the upper triangle of the input is read (the lower is assumed symmetric). On failure the
 * index of the first non-positive pivot is reported (never NaN output); the array content is then
 * undefined, so callers who retry keep a copy (see {@link Damping}).
 */
public final class Cholesky {
    private Cholesky() {}

    /**
     * Upper factor in place: A = UᵀU. On success the upper triangle of {@code a} holds U and the
     * strictly lower triangle is zero.
     *
     * @param a (n, n) row-major SPD matrix; modified
     * @return −1 on success, else the 0-based index of the first pivot that was not positive
     */
    public static int tryFactorUpper(double[] a, int n) {
        checkSquare(a, n);
        int p = Blas.potrfUpper(n, a, 0, n);
        if (p < 0) {
            zeroStrictLower(a, n);
        }
        return p;
    }

    /** As {@link #tryFactorUpper} but throws {@link NotPositiveDefiniteException} on failure. */
    public static void factorUpper(double[] a, int n) {
        int p = tryFactorUpper(a, n);
        if (p >= 0) {
            throw new NotPositiveDefiniteException(p, n);
        }
    }

    /**
     * Lower factor in place: A = LLᵀ. On success the lower triangle of {@code a} holds L and the
     * strictly upper triangle is zero.
     *
     * @param a (n, n) row-major SPD matrix; modified
     * @return −1 on success, else the 0-based index of the first pivot that was not positive
     */
    public static int tryFactorLower(double[] a, int n) {
        int p = tryFactorUpper(a, n);
        if (p < 0) {
            Matrices.transposeInPlace(a, n);
        }
        return p;
    }

    /** As {@link #tryFactorLower} but throws {@link NotPositiveDefiniteException} on failure. */
    public static void factorLower(double[] a, int n) {
        int p = tryFactorLower(a, n);
        if (p >= 0) {
            throw new NotPositiveDefiniteException(p, n);
        }
    }

    /** A fresh upper factor U (A = UᵀU) of a copy of {@code a}; throws {@link NotPositiveDefiniteException}. */
    public static double[] upper(double[] a, int n) {
        double[] u = a.clone();
        factorUpper(u, n);
        return u;
    }

    /** A fresh lower factor L (A = LLᵀ) of a copy of {@code a}; throws {@link NotPositiveDefiniteException}. */
    public static double[] lower(double[] a, int n) {
        double[] l = a.clone();
        factorLower(l, n);
        return l;
    }

    static void zeroStrictLower(double[] a, int n) {
        for (int i = 1; i < n; i++) {
            java.util.Arrays.fill(a, i * n, i * n + i, 0.0);
        }
    }

    static void checkSquare(double[] a, int n) {
        if (n < 0 || a.length < (long) n * n) {
            throw new IllegalArgumentException("expected an (" + n + ", " + n + ") matrix, got " + a.length + " values");
        }
    }
}
