package dev.shrink4j.tensors.linalg;

import java.util.SplittableRandom;

/**
 * Randomized truncated SVD (Halko, Martinsson, Tropp 2011, Algorithms 4.4 + 5.1), the default for
 * rank ≪ min(m, n) (docs/methods/lowrank-lost.md §1, docs/methods/lowrank-lost.md §4): sample Y = A Ω with a seeded Gaussian Ω of rank + oversampling
 * columns, run power iterations with re-orthonormalization after every product (Q ← orth(A orth(Aᵀ Q))),
 * then take the exact SVD of the small B = Qᵀ A and lift U = Q Ũ. Deterministic for a given seed.
 *
 * @param rank           triplets returned
 * @param oversampling   extra sample columns (default 10)
 * @param powerIterations subspace iterations (default 2)
 * @param seed           seed of Ω
 */
public record RandomizedSvd(int rank, int oversampling, int powerIterations, long seed) {
    public static final int DEFAULT_OVERSAMPLING = 10;
    public static final int DEFAULT_POWER_ITERATIONS = 2;

    public RandomizedSvd {
        if (rank < 0 || oversampling < 0 || powerIterations < 0) {
            throw new IllegalArgumentException("rank, oversampling and power iterations must be ≥ 0");
        }
    }

    /** rank + 10 oversampling, 2 power iterations, seed 0. */
    public static RandomizedSvd ofRank(int rank) {
        return new RandomizedSvd(rank, DEFAULT_OVERSAMPLING, DEFAULT_POWER_ITERATIONS, 0L);
    }

    public RandomizedSvd withSeed(long s) {
        return new RandomizedSvd(rank, oversampling, powerIterations, s);
    }

    public RandomizedSvd withPowerIterations(int q) {
        return new RandomizedSvd(rank, oversampling, q, seed);
    }

    /**
     * The leading {@code min(rank, m, n)} triplets of A (m, n); A is not modified. Falls back to the
     * exact SVD when the sample size reaches min(m, n).
     */
    public Svd compute(double[] a, int m, int n) {
        if (a.length < (long) m * n) {
            throw new IllegalArgumentException("expected an (" + m + ", " + n + ") matrix, got " + a.length + " values");
        }
        Matrices.requireFinite(a, m, n, "randomized SVD input");
        int kmax = Math.min(m, n);
        int r = Math.min(rank, kmax);
        int l = Math.min(kmax, r + oversampling);
        if (l >= kmax) {
            return Svd.of(a, m, n).truncate(r);
        }
        double[] omega = new double[n * l]; // (n, l)
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = 0; i < omega.length; i++) {
            omega[i] = gaussian(rnd);
        }
        double[] q = orthonormalize(Matrices.multiply(a, false, omega, false, m, l, n), m, l); // (m, l)
        for (int it = 0; it < powerIterations; it++) {
            double[] z = orthonormalize(Matrices.multiply(a, true, q, false, n, l, m), n, l); // (n, l)
            q = orthonormalize(Matrices.multiply(a, false, z, false, m, l, n), m, l);
        }
        double[] b = Matrices.multiply(q, true, a, false, l, n, m); // (l, n)
        Svd small = Svd.of(b, l, n); // Ũ (l, l)
        double[] u = Matrices.multiply(q, false, small.u(), false, m, l, l); // (m, l)
        return new Svd(m, n, l, u, small.s(), small.vt()).truncate(r);
    }

    /** Q (rows, cols) with orthonormal columns spanning those of Y (thin Householder QR). */
    private static double[] orthonormalize(double[] y, int rows, int cols) {
        return Qr.factor(y, rows, cols).q();
    }

    /** Standard normal by Box–Muller (SplittableRandom has no nextGaussian on every JDK we target). */
    private static double gaussian(SplittableRandom rnd) {
        double u1 = rnd.nextDouble();
        double u2 = rnd.nextDouble();
        return Math.sqrt(-2.0 * Math.log1p(-u1)) * Math.cos(2 * Math.PI * u2);
    }
}
