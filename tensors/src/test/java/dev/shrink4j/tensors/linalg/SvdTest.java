package dev.shrink4j.tensors.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SvdTest {
    /** ‖A − UΣVᵀ‖_F / ‖A‖_F for a backward-stable SVD: a small multiple of ε·√(mn). */
    private static final double RECON_TOL = 1e-13;
    /** max |UᵀU − I|, |VVᵀ − I|. */
    private static final double ORTHO_TOL = 1e-12;
    /** Singular values are perturbed by at most ε‖A‖ times a modest factor (Weyl). */
    private static final double VALUE_TOL = 1e-13;

    @Test
    void handComputedTwoByTwo() {
        // [[3, 0], [4, 5]]: AᵀA = [[25, 20], [20, 25]] has eigenvalues 45 and 5
        Svd svd = Svd.of(new double[] {3, 0, 4, 5}, 2, 2);
        assertArrayEquals(new double[] {Math.sqrt(45), Math.sqrt(5)}, svd.s(), 1e-14);
        assertArrayEquals(new double[] {3, 0, 4, 5}, svd.reconstruct(), 1e-14);
        // right singular vectors ±(1, 1)/√2 and ±(1, −1)/√2
        assertEquals(Math.abs(svd.vt()[0]), Math.sqrt(0.5), 1e-14);
        assertEquals(svd.vt()[0], svd.vt()[1], 1e-14);
    }

    @Test
    void diagonalAndZeroMatrices() {
        Svd d = Svd.of(new double[] {0, 0, 0, 0, -2, 0, 0, 0, 0, 0, 7, 0}, 3, 4);
        assertArrayEquals(new double[] {7, 2, 0}, d.s(), 1e-15);
        assertArrayEquals(new double[] {0, 0, 0, 0, -2, 0, 0, 0, 0, 0, 7, 0}, d.reconstruct(), 1e-15);
        Svd z = Svd.of(new double[12], 4, 3);
        assertArrayEquals(new double[3], z.s(), 0.0);
        assertTrue(Gen.orthogonalityError(z.u(), 4, 3) < ORTHO_TOL);
    }

    @Test
    void prescribedSpectraTallSquareWide() {
        Random rnd = new Random(21);
        int[][] shapes = {{40, 40}, {90, 70}, {150, 40}, {33, 80}, {1, 5}, {6, 1}, {130, 130}};
        for (int[] sh : shapes) {
            int m = sh[0], n = sh[1], k = Math.min(m, n);
            for (double cond : new double[] {1, 1e3, 1e12}) {
                double[] s = Gen.geometric(k, cond);
                double[] a = Gen.withSingularValues(rnd, m, n, s);
                Svd svd = Svd.of(a, m, n);
                String what = m + "x" + n + " cond " + cond;
                assertEquals(k, svd.k());
                for (int i = 0; i < k; i++) {
                    assertEquals(s[i], svd.s()[i], VALUE_TOL * Math.sqrt(m + n), what + " σ" + i);
                }
                assertTrue(Gen.relDiff(svd.reconstruct(), a) < RECON_TOL * Math.sqrt(m * n), what);
                assertTrue(Gen.orthogonalityError(svd.u(), m, k) < ORTHO_TOL, what + " U");
                assertTrue(Gen.orthogonalityError(Matrices.transpose(svd.vt(), k, n), n, k) < ORTHO_TOL, what + " V");
                double[] values = Svd.values(a, m, n);
                for (int i = 0; i < k; i++) {
                    assertEquals(svd.s()[i], values[i], VALUE_TOL, what);
                }
            }
        }
    }

    @Test
    void rankDeficientAndClustered() {
        Random rnd = new Random(22);
        int m = 120, n = 100;
        double[] s = new double[n];
        for (int i = 0; i < 30; i++) {
            s[i] = i < 10 ? 5.0 : 1.0 / (i + 1); // a cluster of ten equal values, then decay, then exact zeros
        }
        double[] a = Gen.withSingularValues(rnd, m, n, s);
        Svd svd = Svd.of(a, m, n);
        for (int i = 0; i < n; i++) {
            assertEquals(s[i], svd.s()[i], VALUE_TOL * 10, "σ" + i);
        }
        assertTrue(Gen.relDiff(svd.reconstruct(), a) < RECON_TOL * 100);
        assertTrue(Gen.orthogonalityError(svd.u(), m, n) < ORTHO_TOL);
        assertTrue(Gen.orthogonalityError(Matrices.transpose(svd.vt(), n, n), n, n) < ORTHO_TOL);
        // Eckart–Young: the rank-30 truncation reproduces A
        assertTrue(Gen.relDiff(svd.truncate(30).reconstruct(), a) < RECON_TOL * 100);
    }

    @Test
    void gradedBidiagonalLikeInput() {
        // rows scaled over 30 orders of magnitude: exercises the negligible-d / zero-chasing branches
        Random rnd = new Random(23);
        int m = 60, n = 50;
        double[] a = Gen.gaussian(rnd, m, n);
        for (int i = 0; i < m; i++) {
            double f = Math.pow(10, -30.0 * i / m);
            for (int j = 0; j < n; j++) {
                a[i * n + j] *= f;
            }
        }
        Svd svd = Svd.of(a, m, n);
        assertTrue(Gen.relDiff(svd.reconstruct(), a) < RECON_TOL * 100);
        assertTrue(Gen.orthogonalityError(svd.u(), m, n) < ORTHO_TOL);
        for (int i = 1; i < n; i++) {
            assertTrue(svd.s()[i] <= svd.s()[i - 1]);
        }
    }

    @Test
    void rejectsNonFiniteInput() {
        double[] a = {1, 2, Double.NaN, 4, 5, 6};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Svd.of(a, 2, 3));
        assertTrue(e.getMessage().contains("(0, 2)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RandomizedSvd.ofRank(1).compute(a, 2, 3));
        assertThrows(IllegalArgumentException.class,
                () -> SymmetricEigen.of(new double[] {1, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, 1}, 2));
    }
}
