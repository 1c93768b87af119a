package dev.shrink4j.lowrank;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.ShrinkException;
import org.junit.jupiter.api.Test;

class BudgetsTest {
    @Test
    void methodsSectionExampleLlama2QProj() {
        // docs/methods/lowrank-lost.md §5: 4096² q_proj, r = 1024, ρ = 0.05 → c = 204, 8 388 608 + 835 584 = 9.22 M values.
        int c = Budgets.lostColumns(4096, 0.05);
        assertEquals(204, c);
        assertEquals(9_224_192L, Budgets.lostParams(4096, 4096, 1024, c));
    }

    @Test
    void lostRankIsTheLargestThatFitsOnTheDemoFfnShape() {
        // d_out = 172, d_in = 64, P = 0.5: ⌊5504⌋ values, c = ⌊3.2⌋ = 3, r = ⌊(5504 − 516)/236⌋ = 21.
        int c = Budgets.lostColumns(64, 0.05);
        int r = Budgets.lostRank(172, 64, 0.5, c);
        assertEquals(3, c);
        assertEquals(21, r);
        assertTrue(Budgets.lostParams(172, 64, r, c) <= 5504);
        assertTrue(Budgets.lostParams(172, 64, r + 1, c) > 5504);
        assertEquals(23, Budgets.svdRank(172, 64, 0.5)); // ⌊5504/236⌋
    }

    @Test
    void exactBudgetsAreNotLostToRounding() {
        // 0.3·1000 is 299.99999999999994 in fp64; the budget is still 300 values, i.e. rank 3 of 50x50.
        assertEquals(300, Budgets.values(20, 50, 0.3));
        assertEquals(3, Budgets.svdRank(50, 50, 0.03 * 4)); // 300 / 100
        assertEquals(1, Budgets.lostColumns(10, 0.05)); // at least one column
        assertEquals(32, Budgets.svdRank(64, 64, 1.0)); // ratio 1 of a square matrix: r = d/2
    }

    @Test
    void rejectsRatiosOutsideTheUnitIntervalAndBudgetsBelowRankOne() {
        assertThrows(ShrinkException.class, () -> Budgets.values(10, 10, 0));
        assertThrows(ShrinkException.class, () -> Budgets.values(10, 10, 1.5));
        assertThrows(ShrinkException.class, () -> Budgets.values(10, 10, Double.NaN));
        ShrinkException e = assertThrows(ShrinkException.class, () -> Budgets.svdRank(64, 64, 0.01));
        assertTrue(e.getMessage().contains("cannot hold rank 1"), e.getMessage());
        assertThrows(ShrinkException.class, () -> Budgets.lostRank(64, 64, 0.04, 3));
        assertEquals(1, Budgets.lostRank(64, 64, Budgets.minimumRatio(64, 64, 3), 3));
    }
}
