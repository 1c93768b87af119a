package dev.shrink4j.lowrank;

/**
 * The one seam through which this module asks for singular vectors. Every method here needs only
 * the leading {@code rank} triplets of a dense row-major matrix, so that is the whole contract.
 */
@FunctionalInterface
public interface SvdSolver {
    /**
     * The leading {@code rank} singular triplets of {@code a}, in descending order of σ.
     *
     * @param a    (m, n) row-major; not modified
     * @param rank 1 ≤ rank ≤ min(m, n)
     */
    Triplets leading(double[] a, int m, int n, int rank);

    /**
     * A = Σ_i s[i]·u_i·v_iᵀ restricted to the leading {@code rank} terms.
     *
     * @param u (m, rank) row-major: column i is u_i
     * @param s (rank) descending, non-negative
     * @param v (n, rank) row-major: column i is v_i
     */
    record Triplets(int m, int n, int rank, double[] u, double[] s, double[] v) {
        public Triplets {
            if (u.length != (long) m * rank || s.length != rank || v.length != (long) n * rank) {
                throw new IllegalArgumentException("triplet shapes do not match (" + m + ", " + n + ") rank " + rank);
            }
        }
    }

    /** The solver used by default. */
    static SvdSolver standard() {
        return InterimJacobiSvd.INSTANCE;
    }
}
