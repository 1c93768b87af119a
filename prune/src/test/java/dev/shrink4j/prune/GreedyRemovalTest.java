package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class GreedyRemovalTest {
    @Test
    void removesTheCheapestModuleEachRoundWithInteractions() {
        double[] cost = {5, 1, 3, 1, 4};
        // removing 1 and 3 together costs extra, so after 1 (the lower id of the tie) 2 wins over 3
        GreedyRemoval.Scorer scorer = disabled -> {
            double s = 10;
            for (int m : disabled) {
                s += cost[m];
            }
            return disabled.contains(1) && disabled.contains(3) ? s + 10 : s;
        };
        int[] evaluations = {0};
        List<GreedyRemoval.Step> steps = GreedyRemoval.run(5, new TreeSet<>(), 3, scorer, (r, m, s) -> evaluations[0]++);
        assertEquals(List.of(1, 2, 4), steps.stream().map(GreedyRemoval.Step::removed).toList());
        assertEquals(11.0, steps.get(0).score());
        assertEquals(14.0, steps.get(1).score());
        assertEquals(5 + 4 + 3, evaluations[0]); // Σ (L − i), docs/methods/2ssp.md §3
    }
}
