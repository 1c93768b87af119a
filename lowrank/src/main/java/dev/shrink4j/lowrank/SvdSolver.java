package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.linalg.Svd;

/**
 * The one seam through which this module asks for singular vectors: every method here needs only
 * the leading {@code rank} triplets of a dense row-major matrix. Implementations are the tensors
 * module's linalg (exact Golub–Kahan for tests and small matrices, §2.7).
 */
@FunctionalInterface
public interface SvdSolver {
    /**
     * The leading {@code rank} singular triplets of {@code a} (m, n), descending.
     *
     * @param a    (m, n) row-major; not modified
     * @param rank 1 ≤ rank ≤ min(m, n)
     * @return k = rank, u (m, rank), s (rank), vt (rank, n)
     */
    Svd leading(double[] a, int m, int n, int rank);

    /** Exact thin SVD, truncated. */
    static SvdSolver exact() {
        return (a, m, n, rank) -> Svd.of(a, m, n).truncate(rank);
    }

    /** The solver used by default. */
    static SvdSolver standard() {
        return exact();
    }
}
