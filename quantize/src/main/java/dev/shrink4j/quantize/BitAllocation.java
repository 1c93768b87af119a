package dev.shrink4j.quantize;

import java.util.Arrays;
import java.util.List;

/**
 * The multiple-choice knapsack of mixed precision: each module takes one candidate bit-width, each
 * candidate costs bytes and leaves an error; minimize the summed error within a byte budget.
 *
 * <p>Solved exactly by dynamic programming over the budget in {@link #UNITS} units: a candidate's bytes
 * are rounded up to whole units, so the choice never exceeds the budget, and it is optimal for the
 * rounded costs (exact when the budget is at most {@link #UNITS} bytes; otherwise at most one unit per
 * module, 1/{@value #UNITS} of the budget each, is left unused). Time and memory: modules × {@link #UNITS}.
 * The Lagrangian relaxation (each module minimizing error + λ·bytes) reaches only the points of each
 * module's convex hull; the program also reaches the others, which matters when few modules share a budget.
 */
public final class BitAllocation {
    /** Budget resolution. */
    static final int UNITS = 20_000;

    private BitAllocation() {}

    /** One module's candidates: bits[i] costs bytes[i] and leaves error[i]. */
    public record Candidates(String module, int[] bits, long[] bytes, double[] error) {}

    /**
     * The chosen bit-width per module (in the order given), whose bytes sum to at most {@code budget}.
     *
     * @throws IllegalArgumentException when even the cheapest candidates exceed the budget
     */
    public static int[] allocate(List<Candidates> modules, long budget) {
        long unit = Math.max(1, (budget + UNITS - 1) / UNITS);
        int cap = (int) (budget / unit);
        int n = modules.size();
        double[] best = new double[cap + 1]; // best[c]: least error of the modules so far within c units
        byte[][] pick = new byte[n][cap + 1];
        Arrays.fill(best, 0);
        for (int m = 0; m < n; m++) {
            Candidates k = modules.get(m);
            double[] next = new double[cap + 1];
            Arrays.fill(next, Double.POSITIVE_INFINITY);
            for (int i = 0; i < k.bits().length; i++) {
                long cost = (k.bytes()[i] + unit - 1) / unit;
                if (cost > cap) continue;
                for (int c = (int) cost; c <= cap; c++) {
                    double e = best[c - (int) cost] + k.error()[i];
                    if (e < next[c]) {
                        next[c] = e;
                        pick[m][c] = (byte) i;
                    }
                }
            }
            best = next;
        }
        if (best[cap] == Double.POSITIVE_INFINITY) {
            long min = 0;
            for (Candidates k : modules) min += Arrays.stream(k.bytes()).min().orElse(0);
            throw new IllegalArgumentException("the budget " + budget + " B is below the cheapest candidates' " + min + " B");
        }
        int[] bits = new int[n];
        int c = cap;
        for (int m = n - 1; m >= 0; m--) {
            Candidates k = modules.get(m);
            int i = pick[m][c];
            bits[m] = k.bits()[i];
            c -= (int) ((k.bytes()[i] + unit - 1) / unit);
        }
        return bits;
    }
}
