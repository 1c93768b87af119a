package dev.shrink4j.tensors.linalg;

/**
 * A Cholesky factorization met a pivot that was not positive (or not finite): the matrix is not
 * numerically positive definite. {@link #pivot()} is the 0-based index of that pivot in the caller's
 * ordering; the leading {@code pivot} × {@code pivot} block was positive definite.
 */
public final class NotPositiveDefiniteException extends ArithmeticException {
    private final int pivot;

    public NotPositiveDefiniteException(int pivot, int n) {
        super("matrix of order " + n + " is not positive definite: pivot " + pivot + " is not positive");
        this.pivot = pivot;
    }

    /** 0-based index of the failing pivot. */
    public int pivot() {
        return pivot;
    }
}
