package dev.shrink4j.tensors.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LeastSquaresTest {
    private static final double TOL = 1e-10;

    @Test
    void handComputedLine() {
        // fit y = c0 + c1·x through (0, 1), (1, 3), (2, 5), (3, 7) exactly: c = (1, 2)
        double[] a = {1, 0, 1, 1, 1, 2, 1, 3};
        double[] b = {1, 3, 5, 7};
        assertArrayEquals(new double[] {1, 2}, LeastSquares.solve(a, 4, 2, b, 1), 1e-14);
        // (0, 0), (1, 1), (2, 1): least squares line y = 1/6 + x/2
        double[] a2 = {1, 0, 1, 1, 1, 2};
        assertArrayEquals(new double[] {1.0 / 6, 0.5}, LeastSquares.solve(a2, 3, 2, new double[] {0, 1, 1}, 1), 1e-14);
    }

    @Test
    void matchesNormalEquationsOnRandomProblems() {
        Random rnd = new Random(51);
        for (int[] s : new int[][] {{10, 3}, {64, 16}, {256, 256}, {300, 40}}) {
            int m = s[0], n = s[1];
            double[] a = Gen.withSingularValues(rnd, m, n, Gen.geometric(n, 100));
            double[] b = Gen.gaussian(rnd, m, 2);
            double[] x = LeastSquares.solve(a, m, n, b, 2);
            // optimality: Aᵀ(AX − B) = 0
            double[] res = Matrices.multiply(a, false, x, false, m, 2, n);
            for (int i = 0; i < res.length; i++) {
                res[i] -= b[i];
            }
            double[] grad = Matrices.multiply(a, true, res, false, n, 2, m);
            assertTrue(Matrices.frobenius(grad) < TOL * Matrices.frobenius(b), m + "x" + n);
        }
    }

    @Test
    void ridgeSolveAndSingularFallback() {
        Random rnd = new Random(52);
        int n = 16;
        double[] p = Gen.gaussian(rnd, 40, n);
        double[] g = Matrices.multiply(p, true, p, false, n, n, 40);
        double[] r = Gen.gaussian(rnd, n, 1);
        double lambda = 1e-3;
        double[] x = LeastSquares.solveRidge(g, n, r, lambda);
        double[] check = Matrices.multiply(g, false, x, false, n, 1, n);
        for (int i = 0; i < n; i++) {
            check[i] += lambda * x[i];
        }
        assertArrayEquals(r, check, 1e-10);
        // singular G (an empty cluster: zero row and column) with λ = 0: minimum-norm solution, zero there
        double[] gs = g.clone();
        for (int i = 0; i < n; i++) {
            gs[3 * n + i] = 0;
            gs[i * n + 3] = 0;
        }
        double[] rs = r.clone();
        rs[3] = 0;
        double[] xs = LeastSquares.solveRidge(gs, n, rs, 0.0);
        assertTrue(Math.abs(xs[3]) < 1e-12);
        double[] back = Matrices.multiply(gs, false, xs, false, n, 1, n);
        assertArrayEquals(rs, back, 1e-8);
    }
}
