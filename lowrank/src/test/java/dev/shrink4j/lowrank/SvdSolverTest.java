package dev.shrink4j.lowrank;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SvdSolverTest {
    private static final double EXACT = 1e-10;

    @Test
    void goldenTwoByTwo() {
        // [[3, 0], [4, 5]] has singular values √45 and √5 (σ1² + σ2² = 50, σ1·σ2 = 15).
        SvdSolver.Triplets t = SvdSolver.standard().leading(new double[] {3, 0, 4, 5}, 2, 2, 2);
        assertArrayEquals(new double[] {Math.sqrt(45), Math.sqrt(5)}, t.s(), EXACT);
    }

    @Test
    void reconstructsWideAndTallMatricesWithOrthonormalFactors() {
        for (int[] shape : new int[][] {{7, 13}, {13, 7}, {1, 5}, {6, 6}}) {
            int m = shape[0], n = shape[1], k = Math.min(m, n);
            double[] a = Dense.toDouble(Matrices.gaussian(m, n, 11 + m));
            SvdSolver.Triplets t = SvdSolver.standard().leading(a, m, n, k);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += t.u()[i * k + p] * t.s()[p] * t.v()[j * k + p];
                    assertEquals(a[i * n + j], s, 1e-9, "entry " + i + "," + j + " of " + m + "x" + n);
                }
            }
            for (int p = 0; p < k; p++) {
                if (p > 0) assertTrue(t.s()[p] <= t.s()[p - 1]);
                for (int q = 0; q < k; q++) {
                    double uu = 0, vv = 0;
                    for (int i = 0; i < m; i++) uu += t.u()[i * k + p] * t.u()[i * k + q];
                    for (int j = 0; j < n; j++) vv += t.v()[j * k + p] * t.v()[j * k + q];
                    assertEquals(p == q ? 1 : 0, uu, 1e-9);
                    assertEquals(p == q ? 1 : 0, vv, 1e-9);
                }
            }
        }
    }
}
