package dev.shrink4j.quantize;

/**
 * Self-adaptive outlier allocation (docs/methods/pqi-requant.md §4, a reconstruction of the paper's
 * Algorithm 1): given per layer ℓ the error E_ℓ(ρ) of its dense part at every ratio ρ of a grid, choose
 * one ρ_ℓ per layer minimising Σ_ℓ E_ℓ(ρ_ℓ) subject to Σ_ℓ ρ_ℓ·|W_ℓ| ≤ R_o. Lagrangian relaxation: for a
 * multiplier μ ≥ 0 each layer takes argmin_ρ E_ℓ(ρ) + μ·ρ·|W_ℓ|; μ is bisected to the smallest value whose
 * choice fits the budget; the leftover budget then goes greedily to the move (a layer to a larger ratio)
 * with the largest error reduction per extra outlier that still fits, until none fits or helps. A last
 * pass (an addition to docs/methods/pqi-requant.md §4) tries every change of two layers' ratios at once that fits and lowers
 * Σ E, until none does: the greedy fill alone can strand budget between breakpoints.
 */
final class OutlierAllocation {
    /** The grid of docs/methods/pqi-requant.md §4 in units of r_o. */
    static final double[] GRID = {0, 0.25, 0.5, 1, 2, 4};

    private OutlierAllocation() {}

    /** Outliers a layer of {@code weights} gets at ratio {@code rho}. */
    static long count(double rho, long weights) {
        return (long) Math.floor(rho * weights);
    }

    /**
     * @param error   error[ℓ][g] = E_ℓ(ratios[g])
     * @param weights |W_ℓ|
     * @param ratios  the grid, ascending, ratios[0] = 0
     * @param budget  R_o, outliers over all layers
     * @return the grid index chosen per layer; the total never exceeds the budget
     */
    static int[] allocate(double[][] error, long[] weights, double[] ratios, long budget) {
        int layers = error.length;
        double lo = 0, hi = 1;
        while (total(choose(error, weights, ratios, hi), weights, ratios) > budget && hi < 1e300) hi *= 2;
        for (int it = 0; it < 200; it++) {
            double mid = 0.5 * (lo + hi);
            if (total(choose(error, weights, ratios, mid), weights, ratios) <= budget) hi = mid;
            else lo = mid;
        }
        int[] pick = choose(error, weights, ratios, hi);
        long used = total(pick, weights, ratios);
        while (true) { // greedy spend of what is left
            int bestL = -1, bestG = -1;
            double bestRate = 0;
            for (int l = 0; l < layers; l++) {
                long have = count(ratios[pick[l]], weights[l]);
                for (int g = pick[l] + 1; g < ratios.length; g++) {
                    long extra = count(ratios[g], weights[l]) - have;
                    double gain = error[l][pick[l]] - error[l][g];
                    if (extra <= 0 || used + extra > budget || gain <= 0) continue;
                    double rate = gain / extra;
                    if (rate > bestRate) {
                        bestRate = rate;
                        bestL = l;
                        bestG = g;
                    }
                }
            }
            if (bestL < 0) break;
            used += count(ratios[bestG], weights[bestL]) - count(ratios[pick[bestL]], weights[bestL]);
            pick[bestL] = bestG;
        }
        improvePairs(error, weights, ratios, budget, pick);
        return pick;
    }

    /** Pairwise exchange: moves two layers' ratios together while that fits and lowers Σ E. Modified: pick. */
    private static void improvePairs(double[][] error, long[] weights, double[] ratios, long budget, int[] pick) {
        int layers = error.length, n = ratios.length;
        for (int round = 0; round < 1000; round++) {
            long used = total(pick, weights, ratios);
            double bestGain = 1e-15;
            int ba = -1, bb = -1, bga = -1, bgb = -1;
            for (int a = 0; a < layers; a++) {
                for (int b = a + 1; b < layers; b++) {
                    long base = used - count(ratios[pick[a]], weights[a]) - count(ratios[pick[b]], weights[b]);
                    double now = error[a][pick[a]] + error[b][pick[b]];
                    for (int ga = 0; ga < n; ga++) {
                        long ca = base + count(ratios[ga], weights[a]);
                        if (ca > budget) break;
                        for (int gb = 0; gb < n; gb++) {
                            if (ca + count(ratios[gb], weights[b]) > budget) break;
                            double gain = now - error[a][ga] - error[b][gb];
                            if (gain > bestGain * Math.max(1, now)) {
                                bestGain = gain / Math.max(1, now);
                                ba = a;
                                bb = b;
                                bga = ga;
                                bgb = gb;
                            }
                        }
                    }
                }
            }
            if (ba < 0) return;
            pick[ba] = bga;
            pick[bb] = bgb;
        }
    }

    /** Every layer at the same ratio (SqueezeLLM's own choice; {@code --outlier-allocation uniform}). */
    static int[] uniform(int layers, int gridIndex) {
        int[] p = new int[layers];
        java.util.Arrays.fill(p, gridIndex);
        return p;
    }

    private static int[] choose(double[][] error, long[] weights, double[] ratios, double mu) {
        int[] p = new int[error.length];
        for (int l = 0; l < error.length; l++) {
            double best = Double.POSITIVE_INFINITY;
            for (int g = 0; g < ratios.length; g++) {
                double v = error[l][g] + mu * count(ratios[g], weights[l]);
                if (v < best) { // ties: the smaller ratio
                    best = v;
                    p[l] = g;
                }
            }
        }
        return p;
    }

    static long total(int[] pick, long[] weights, double[] ratios) {
        long s = 0;
        for (int l = 0; l < pick.length; l++) s += count(ratios[pick[l]], weights[l]);
        return s;
    }
}
