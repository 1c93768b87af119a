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
}
