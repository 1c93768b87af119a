package dev.shrink4j.quantize;

/**
 * Self-adaptive outlier allocation (docs/methods/pqi-requant.md §4, a reconstruction of the paper's
 * Algorithm 1): given per layer ℓ the error E_ℓ(ρ) of its dense part at every ratio ρ of a grid, choose
 * one ρ_ℓ per layer minimising Σ_ℓ E_ℓ(ρ_ℓ) subject to Σ_ℓ count(ρ_ℓ, |W_ℓ|) ≤ R_o.
 *
 * <p>That is a multiple-choice knapsack. §4's Lagrangian relaxation (argmin_ρ E_ℓ(ρ) + μ·count, μ
 * bisected) is optimal only at the budgets some μ spends exactly; between them its greedy fill can miss
 * the optimum by tens of per cent. shrink4j solves it exactly instead (a deviation from §4, same
 * objective and constraint): a dynamic programme over the integer outlier count, best[c] = min Σ E over
 * the layers so far with at most c outliers, one pass per layer and grid point, O(layers · grid · R_o)
 * time. The choice is recovered Hirschberg-style (split the layers in two halves, find the budget split
 * c* minimising best_left[c] + best_right[R − c], recurse on each half with its share), so memory is
 * three arrays of R_o + 1 doubles, not a layers × R_o table. A TinyLlama-1.1B-shaped model (154 linears,
 * R_o = 4.4 M at r_o = 0.45 %) fits in the exact range. Budgets above {@link #EXACT_LIMIT} are solved
 * in units of u = ⌈R_o / EXACT_LIMIT⌉ outliers with every cost rounded up: never over budget, optimal
 * for the rounded costs.
 */
final class OutlierAllocation {
    /** The grid of docs/methods/pqi-requant.md §4 in units of r_o. */
    static final double[] GRID = {0, 0.25, 0.5, 1, 2, 4};
    /** Largest budget solved in single outliers: three arrays of 2^23 + 1 doubles, 192 MiB. */
    static final long EXACT_LIMIT = 1L << 23;

    private OutlierAllocation() {}

    /** Outliers a layer of {@code weights} gets at ratio {@code rho}. */
    static long count(double rho, long weights) {
        return (long) Math.floor(rho * weights);
    }

    /**
     * @param error   error[ℓ][g] = E_ℓ(ratios[g]); +∞ marks a choice that is not allowed
     * @param weights |W_ℓ|
     * @param ratios  the grid, ascending, ratios[0] = 0
     * @param budget  R_o, outliers over all layers, ≥ 0
     * @return the grid index chosen per layer, minimising Σ E; the total never exceeds the budget
     */
    static int[] allocate(double[][] error, long[] weights, double[] ratios, long budget) {
        return allocate(error, weights, ratios, budget, EXACT_LIMIT);
    }

    /** {@link #allocate} with budgets above {@code exactLimit} solved in rounded-up units (tests use a small limit). */
    static int[] allocate(double[][] error, long[] weights, double[] ratios, long budget, long exactLimit) {
        if (ratios.length == 0 || ratios[0] != 0) throw new IllegalArgumentException("the ratio grid must start at 0");
        if (budget < 0) throw new IllegalArgumentException("negative outlier budget " + budget);
        int layers = error.length;
        long most = 0; // no layer takes more than its largest grid point, so neither need the programme
        for (long w : weights) most += count(ratios[ratios.length - 1], w);
        budget = Math.min(budget, most);
        long unit = budget <= exactLimit ? 1 : (budget + exactLimit - 1) / exactLimit;
        int b = (int) (budget / unit);
        int[][] cost = new int[layers][ratios.length];
        for (int l = 0; l < layers; l++) {
            for (int g = 0; g < ratios.length; g++) {
                long c = (count(ratios[g], weights[l]) + unit - 1) / unit; // rounded up: Σ unit·cost ≤ unit·b ≤ budget
                cost[l][g] = (int) Math.min(c, (long) b + 1); // more than b never fits
            }
        }
        int[] pick = new int[layers];
        if (layers > 0) solve(error, cost, 0, layers, b, pick);
        return pick;
    }

    /** The optimal choice for layers [lo, hi) within b (cost units) into pick. Modified: pick. */
    private static void solve(double[][] error, int[][] cost, int lo, int hi, int b, int[] pick) {
        if (hi - lo == 1) {
            int best = 0; // ratio 0 always fits
            for (int g = 1; g < cost[lo].length; g++) {
                if (cost[lo][g] <= b && error[lo][g] < error[lo][best]) best = g; // ties: the smaller ratio
            }
            pick[lo] = best;
            return;
        }
        int mid = (lo + hi) >>> 1;
        double[] left = frontier(error, cost, lo, mid, b);
        double[] right = frontier(error, cost, mid, hi, b);
        int split = 0;
        double best = Double.POSITIVE_INFINITY;
        for (int c = 0; c <= b; c++) {
            double v = left[c] + right[b - c];
            if (v < best) {
                best = v;
                split = c;
            }
        }
        left = null; // the recursion needs the memory, not these
        right = null;
        solve(error, cost, lo, mid, split, pick);
        solve(error, cost, mid, hi, b - split, pick);
    }

    /**
     * best[c] = min over choices for layers [lo, hi) with Σ cost ≤ c of Σ E, c = 0..b. Starting from all
     * zeros (no layer, any budget) keeps every row non-increasing in c, which is what "≤ c" needs.
     */
    private static double[] frontier(double[][] error, int[][] cost, int lo, int hi, int b) {
        double[] cur = new double[b + 1], next = new double[b + 1];
        for (int l = lo; l < hi; l++) {
            int[] k = cost[l];
            double[] e = error[l];
            int grid = k.length;
            for (int c = 0; c <= b; c++) { // one write per c; the grid's reads stream through cur
                double m = Double.POSITIVE_INFINITY;
                for (int g = 0; g < grid; g++) {
                    if (k[g] > c) continue;
                    double v = cur[c - k[g]] + e[g];
                    if (v < m) m = v;
                }
                next[c] = m;
            }
            double[] t = cur;
            cur = next;
            next = t;
        }
        return cur;
    }

    static long total(int[] pick, long[] weights, double[] ratios) {
        long s = 0;
        for (int l = 0; l < pick.length; l++) s += count(ratios[pick[l]], weights[l]);
        return s;
    }
}
