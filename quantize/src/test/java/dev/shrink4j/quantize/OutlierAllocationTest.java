package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * docs/methods/pqi-requant.md §4's allocation against brute force: on thousands of random toys (1–4
 * layers, random sizes, budgets anywhere from 0 to past the largest total) it never exceeds the budget
 * and reaches the brute-force minimum of Σ E at every budget, not only at those a Lagrange multiplier
 * spends exactly. The only tolerance is floating-point summation order: {@link #SUM_TOL} relative.
 */
class OutlierAllocationTest {
    private static final double[] RATIOS = {0, 0.0025, 0.005, 0.01, 0.02, 0.04};
    /** Σ E summed in another order than brute force's: equal up to rounding. */
    private static final double SUM_TOL = 1e-12;

    /** Convex, decreasing error curves (what outlier removal gives: diminishing returns). */
    private static double[] convex(Random r) {
        double[] e = new double[RATIOS.length];
        double base = 1 + 9 * r.nextDouble(), decay = 20 + 200 * r.nextDouble();
        for (int g = 0; g < RATIOS.length; g++) e[g] = base * Math.exp(-decay * RATIOS[g]);
        return e;
    }

    /** Any curve, small integers so that ties between choices are common. */
    private static double[] ragged(Random r) {
        double[] e = new double[RATIOS.length];
        for (int g = 0; g < RATIOS.length; g++) e[g] = r.nextInt(6);
        return e;
    }

    @Test
    void equalsBruteForceAtEveryBudget() {
        Random r = new Random(7);
        for (int trial = 0; trial < 3000; trial++) {
            int layers = 1 + r.nextInt(4);
            double[][] e = new double[layers][];
            long[] weights = new long[layers];
            long most = 0;
            for (int l = 0; l < layers; l++) {
                e[l] = trial % 3 == 2 ? ragged(r) : convex(r);
                weights[l] = 500 + r.nextInt(12000);
                most += OutlierAllocation.count(RATIOS[RATIOS.length - 1], weights[l]);
            }
            long budget = (long) (r.nextDouble() * 1.2 * most);
            int[] got = OutlierAllocation.allocate(e, weights, RATIOS, budget);
            String what = "trial " + trial + ", budget " + budget;
            assertTrue(OutlierAllocation.total(got, weights, RATIOS) <= budget, what);
            double best = bruteForce(e, weights, budget, 1);
            assertEquals(best, sum(e, got), SUM_TOL * Math.max(1, best), what);
        }
    }

    @Test
    void theThreeLayerToyOfTheIssueAtEveryBudget() {
        Random r = new Random(11);
        long[] weights = {4096, 11008, 2816};
        double[][] e = {convex(r), convex(r), convex(r)};
        long most = 0;
        for (long w : weights) most += OutlierAllocation.count(RATIOS[RATIOS.length - 1], w);
        for (long budget = 0; budget <= most; budget++) { // every budget, one outlier apart
            int[] got = OutlierAllocation.allocate(e, weights, RATIOS, budget);
            assertTrue(OutlierAllocation.total(got, weights, RATIOS) <= budget, "budget " + budget);
            double best = bruteForce(e, weights, budget, 1);
            assertEquals(best, sum(e, got), SUM_TOL * best, "budget " + budget);
        }
    }

    @Test
    void budgetsAboveTheExactRangeStayWithinBudgetAndAreOptimalInRoundedUnits() {
        Random r = new Random(3);
        for (int trial = 0; trial < 300; trial++) {
            double[][] e = {convex(r), ragged(r), convex(r)};
            long[] weights = {20000 + r.nextInt(50000), 20000 + r.nextInt(50000), 20000 + r.nextInt(50000)};
            long budget = 200 + r.nextInt(2000);
            long limit = 16 + r.nextInt(100); // budget > limit: units of ⌈budget/limit⌉ outliers
            int[] got = OutlierAllocation.allocate(e, weights, RATIOS, budget, limit);
            assertTrue(OutlierAllocation.total(got, weights, RATIOS) <= budget, "trial " + trial);
            long unit = (budget + limit - 1) / limit;
            assertEquals(bruteForce(e, weights, budget, unit), sum(e, got), SUM_TOL * 10, "trial " + trial);
        }
    }

    @Test
    void aLayerThatGainsNothingGetsNoOutliers() {
        double[][] e = {{5, 5, 5, 5, 5, 5}, {5, 4, 3, 2, 1.5, 1.2}};
        long[] weights = {10000, 10000};
        int[] got = OutlierAllocation.allocate(e, weights, RATIOS, 200);
        assertEquals(0, got[0]);
        assertEquals(4, got[1], "the whole budget (2 % of one layer) goes where it helps");
    }

    private static double sum(double[][] e, int[] pick) {
        double s = 0;
        for (int l = 0; l < e.length; l++) s += e[l][pick[l]];
        return s;
    }

    /** min Σ E over every choice whose cost, each layer's count rounded up to {@code unit}s, fits ⌊budget/unit⌋ units. */
    private static double bruteForce(double[][] e, long[] weights, long budget, long unit) {
        int layers = e.length;
        double best = Double.POSITIVE_INFINITY;
        int[] p = new int[layers];
        for (int code = 0; code < Math.pow(RATIOS.length, layers); code++) {
            long units = 0;
            for (int l = 0, c = code; l < layers; l++, c /= RATIOS.length) {
                p[l] = c % RATIOS.length;
                units += (OutlierAllocation.count(RATIOS[p[l]], weights[l]) + unit - 1) / unit;
            }
            if (units <= budget / unit) best = Math.min(best, sum(e, p));
        }
        return best;
    }
}
