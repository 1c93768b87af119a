package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.linalg.RandomizedSvd;
import dev.shrink4j.tensors.linalg.Svd;

/**
 * The one seam through which this module asks for singular vectors: every method here needs only
 * the leading {@code rank} triplets of a dense row-major matrix. Implementations are the tensors
 * module's linalg: exact Golub–Kahan SVD, or the randomized SVD (rank + 10 oversampling, 2 power
 * iterations) that docs/methods/lowrank-lost.md §1 prescribes for large matrices.
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

    /** Randomized truncated SVD (Halko et al.), seeded, {@code q} power iterations, 10 extra samples. */
    static SvdSolver randomized(int powerIterations, long seed) {
        return (a, m, n, rank) -> RandomizedSvd.ofRank(rank).withPowerIterations(powerIterations).withSeed(seed).compute(a, m, n);
    }

    /** Matrices up to this size (min(m, n)) always get the exact SVD: it is cheap and deterministic. */
    int EXACT_UP_TO = 512;

    /**
     * The default (docs/methods/lowrank-lost.md §1): exact for small matrices and for ranks near full, where sampling saves
     * little (the randomized cost grows with the sample size l = r + 10, the exact one does not);
     * randomized otherwise.
     */
    static SvdSolver standard() {
        SvdSolver exact = exact();
        SvdSolver randomized = randomized(RandomizedSvd.DEFAULT_POWER_ITERATIONS, 0);
        return (a, m, n, rank) -> {
            int k = Math.min(m, n);
            boolean small = k <= EXACT_UP_TO || 2 * (rank + RandomizedSvd.DEFAULT_OVERSAMPLING) >= k;
            return (small ? exact : randomized).leading(a, m, n, rank);
        };
    }
}
