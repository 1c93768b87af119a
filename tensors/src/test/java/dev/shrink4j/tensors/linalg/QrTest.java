package dev.shrink4j.tensors.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class QrTest {
    private static final double RECON_TOL = 1e-13;
    private static final double ORTHO_TOL = 1e-12;

    @Test
    void handComputed() {
        // [[3, 1], [4, 2]]: first column norm 5, Householder gives R = [[-5, -2.2], [0, ±0.4]]
        Qr qr = Qr.factor(new double[] {3, 1, 4, 2}, 2, 2);
        double[] r = qr.r();
        assertEquals(5.0, Math.abs(r[0]), 1e-15);
        assertEquals(2.2, Math.abs(r[1]), 1e-15);
        assertEquals(0.0, r[2], 0.0);
        assertEquals(0.4, Math.abs(r[3]), 1e-15);
    }

    @Test
    void reconstructsAcrossPanelBoundaries() {
        Random rnd = new Random(71);
        for (int[] s : new int[][] {{1, 1}, {5, 3}, {33, 33}, {70, 31}, {200, 129}, {300, 64}}) {
            int m = s[0], n = s[1];
            double[] a = Gen.withSingularValues(rnd, m, n, Gen.geometric(n, 1e8));
            Qr qr = Qr.factor(a.clone(), m, n);
            double[] q = qr.q();
            double[] r = qr.r();
            assertTrue(Gen.orthogonalityError(q, m, n) < ORTHO_TOL, m + "x" + n);
            assertTrue(Gen.relDiff(Matrices.multiply(q, false, r, false, m, n, n), a) < RECON_TOL * Math.sqrt(m), m + "x" + n);
            for (int i = 1; i < n; i++) {
                for (int j = 0; j < i; j++) {
                    assertEquals(0.0, r[i * n + j]);
                }
            }
            // Qᵀ(Q B) = B for the full Q, and applyQ on [I; 0] gives the thin Q
            double[] b = Gen.gaussian(rnd, m, 3);
            double[] qb = b.clone();
            qr.applyQ(qb, 3);
            qr.applyQTranspose(qb, 3);
            assertArrayEquals(b, qb, 1e-12);
            double[] e = new double[m * n];
            for (int i = 0; i < n; i++) {
                e[i * n + i] = 1;
            }
            qr.applyQ(e, n);
            assertArrayEquals(q, e, 1e-14);
        }
    }

    @Test
    void rejectsWideMatricesAndRankDeficientLeastSquares() {
        assertThrows(IllegalArgumentException.class, () -> Qr.factor(new double[6], 2, 3));
        double[] a = {1, 2, 2, 4, 3, 6}; // second column = 2 × first
        assertThrows(ArithmeticException.class, () -> LeastSquares.solve(a, 3, 2, new double[] {1, 2, 3}, 1));
    }
}
