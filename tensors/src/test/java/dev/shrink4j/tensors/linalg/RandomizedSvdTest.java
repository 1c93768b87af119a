package dev.shrink4j.tensors.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RandomizedSvdTest {
    /** Frobenius error of the randomized rank-r approximation may exceed the optimum by at most 5 %. */
    private static final double NEAR_OPTIMAL = 1.05;
    private static final double ORTHO_TOL = 1e-12;

    @Test
    void nearOptimalOnDecayingSpectrum() {
        Random rnd = new Random(41);
        int m = 300, n = 200, r = 20;
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = Math.pow(i + 1, -0.7); // slow decay, like LLM weights
        }
        double[] a = Gen.withSingularValues(rnd, m, n, s);
        Svd approx = RandomizedSvd.ofRank(r).compute(a, m, n);
        assertEquals(r, approx.k());
        double optimal = 0;
        for (int i = r; i < n; i++) {
            optimal += s[i] * s[i];
        }
        double err = frobeniusError(a, approx.reconstruct());
        assertTrue(err <= NEAR_OPTIMAL * Math.sqrt(optimal), "error " + err + " vs optimal " + Math.sqrt(optimal));
        assertTrue(Gen.orthogonalityError(approx.u(), m, r) < ORTHO_TOL);
        assertTrue(Gen.orthogonalityError(Matrices.transpose(approx.vt(), r, n), n, r) < ORTHO_TOL);
        for (int i = 0; i < r; i++) {
            assertEquals(s[i], approx.s()[i], 0.02 * s[i], "σ" + i);
        }
    }

    @Test
    void exactOnLowRankAndDeterministicPerSeed() {
        Random rnd = new Random(42);
        int m = 80, n = 130, r = 7;
        double[] s = Gen.geometric(r, 1e4);
        double[] a = Gen.withSingularValues(rnd, m, n, s); // rank exactly 7, wide
        Svd x = RandomizedSvd.ofRank(r).withSeed(3).compute(a, m, n);
        assertArrayEquals(s, x.s(), 1e-12);
        assertTrue(Gen.relDiff(x.reconstruct(), a) < 1e-12);
        Svd y = RandomizedSvd.ofRank(r).withSeed(3).compute(a, m, n);
        assertArrayEquals(x.u(), y.u(), 0.0);
        // rank + oversampling ≥ min(m, n): falls back to the exact SVD
        Svd full = new RandomizedSvd(75, 10, 0, 1).compute(a, m, n);
        assertEquals(75, full.k());
        assertArrayEquals(s, java.util.Arrays.copyOf(full.s(), r), 1e-12);
    }

    private static double frobeniusError(double[] a, double[] b) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return Matrices.frobenius(d);
    }
}
