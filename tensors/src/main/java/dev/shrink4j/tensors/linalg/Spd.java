package dev.shrink4j.tensors.linalg;

import dev.shrink4j.tensors.linalg.internal.Blas;

/**
 * Symmetric positive definite matrices: solves, the inverse, and the upper Cholesky factor of the
 * inverse that GPTQ and SparseGPT sweep with (docs/methods/rtn-gptq.md §2.1 step 4, docs/methods/pruning.md §3). Inputs are row-major
 * (n, n); only their upper triangle is read. Failures throw {@link NotPositiveDefiniteException}.
 */
public final class Spd {
    private Spd() {}

    /** Solves A X = B for SPD A (n, n) and B (n, m); returns X (n, m). A and B are not modified. */
    public static double[] solve(double[] a, int n, double[] b, int m) {
        double[] u = Cholesky.upper(a, n);
        double[] x = b.clone();
        Triangular.solveUpperTransposed(u, n, x, m);
        Triangular.solveUpper(u, n, x, m);
        return x;
    }

    /** A⁻¹ (n, n), full and exactly symmetric. A is not modified. */
    public static double[] inverse(double[] a, int n) {
        double[] x = Cholesky.upper(a, n);
        Blas.trtriUpper(n, x, 0, n); // X = U⁻¹, A⁻¹ = X Xᵀ
        Blas.lauumUpper(n, x, 0, n);
        Matrices.symmetrizeFromUpper(x, n);
        return x;
    }

    /**
     * The upper-triangular U with UᵀU = H⁻¹ (GPTQ's "Cholesky of the inverse"), from one Cholesky and
     * one triangular inverse instead of the usual three factorizations: with J the reversal
     * permutation, factor JHJ = RᵀR (R upper); then H⁻¹ = J R⁻¹R⁻ᵀ J and U = J R⁻ᵀ J is upper with a
     * positive diagonal, hence the unique upper Cholesky factor of H⁻¹. JHJ of a row-major matrix is
     * its flat array reversed.
     *
     * @param h (n, n) SPD, modified: on success it holds U (strictly lower triangle zero)
     * @return −1 on success, else the 0-based index (in H's ordering) of a failing pivot: the
     *     trailing block H[p:, p:] is not numerically positive definite
     */
    public static int tryInverseUpperFactor(double[] h, int n) {
        Cholesky.checkSquare(h, n);
        Matrices.symmetrizeFromUpper(h, n); // the reversal maps H's lower triangle onto the upper one
        reverse(h, n * n);
        int p = Blas.potrfUpper(n, h, 0, n);
        if (p >= 0) {
            return n - 1 - p;
        }
        Blas.trtriUpper(n, h, 0, n); // R⁻¹ in the upper triangle
        // U[i][j] = R⁻ᵀ[n-1-i][n-1-j] = R⁻¹[n-1-j][n-1-i]: transpose then reverse, for i ≤ j.
        Cholesky.zeroStrictLower(h, n);
        Matrices.transposeInPlace(h, n);
        reverse(h, n * n);
        return -1;
    }

    /** A fresh U with UᵀU = H⁻¹ (see {@link #tryInverseUpperFactor}); H is not modified. */
    public static double[] inverseUpperFactor(double[] h, int n) {
        double[] u = h.clone();
        int p = tryInverseUpperFactor(u, n);
        if (p >= 0) {
            throw new NotPositiveDefiniteException(p, n);
        }
        return u;
    }

    private static void reverse(double[] a, int len) {
        for (int i = 0, j = len - 1; i < j; i++, j--) {
            double t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
