package dev.shrink4j.lowrank;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shrink4j.tensors.linalg.Svd;
import org.junit.jupiter.api.Test;

class SvdSolverTest {
    private static final double EXACT = 1e-10;

    @Test
    void goldenTwoByTwoAndTruncationShapes() {
        // [[3, 0], [4, 5]] has singular values √45 and √5 (σ1² + σ2² = 50, σ1·σ2 = 15).
        Svd t = SvdSolver.standard().leading(new double[] {3, 0, 4, 5}, 2, 2, 2);
        assertArrayEquals(new double[] {Math.sqrt(45), Math.sqrt(5)}, t.s(), EXACT);
        Svd one = SvdSolver.standard().leading(Dense.toDouble(TestMatrices.gaussian(7, 13, 1)), 7, 13, 3);
        assertEquals(3, one.k());
        assertEquals(7 * 3, one.u().length);
        assertEquals(3 * 13, one.vt().length);
    }

    @Test
    void standardSamplesLargeMatricesAtLowRankAndStaysExactOtherwise() {
        int m = 600, n = 520, r = 12; // min(m, n) > EXACT_UP_TO and 2(r + 10) < 520: randomized
        double[] a = Dense.toDouble(TestMatrices.decaying(m, n, 0.8, 3));
        Svd sampled = SvdSolver.standard().leading(a, m, n, r);
        Svd exact = SvdSolver.exact().leading(a, m, n, r);
        // A fast-decaying spectrum is where 2 power iterations recover the leading values to ~1e-10.
        assertArrayEquals(exact.s(), sampled.s(), 1e-8);
        assertEquals(r, sampled.k());
    }
}
