package dev.shrink4j.prune;

/**
 * Exact "lowest k scores" selections used by every pruner. Ties are broken by position (the earlier
 * index is pruned first, docs/methods/pruning.md §1), so every mask is deterministic. Scores must be non-negative (|w|,
 * |w|·‖x‖, w²/U_ii²); their IEEE bit patterns then order like integers.
 */
public final class Selection {
    private Selection() {}

    /** Sort key of a score at a position: the score's bits above, the position below. */
    static long key(float score, int position) {
        return ((long) (Float.floatToRawIntBits(score) & 0x7fffffff) << 32) | (position & 0xffffffffL);
    }

    /**
     * Marks in {@code pruned[outOff + i]} the {@code k} lowest of {@code scores[off + i]},
     * i ∈ [0, len). Linear expected time (quickselect on packed keys).
     *
     * @param keys scratch of at least {@code len} longs
     */
    public static void lowestK(float[] scores, int off, int len, int k, long[] keys, boolean[] pruned, int outOff) {
        if (k <= 0) {
            return;
        }
        if (k >= len) {
            java.util.Arrays.fill(pruned, outOff, outOff + len, true);
            return;
        }
        for (int i = 0; i < len; i++) {
            keys[i] = key(scores[off + i], i);
        }
        select(keys, 0, len - 1, k - 1);
        for (int i = 0; i < k; i++) {
            pruned[outOff + (int) keys[i]] = true;
        }
    }

    /**
     * N:M: in each run of m consecutive scores keep the n largest, i.e. mark the m − n lowest
     * (docs/methods/pruning.md §1; ties by position). {@code len} must be a multiple of m.
     */
    public static void nm(float[] scores, int off, int len, NmPattern p, boolean[] pruned, int outOff) {
        int m = p.m();
        int drop = m - p.n();
        long[] group = new long[m];
        for (int g = 0; g < len; g += m) {
            for (int i = 0; i < m; i++) {
                group[i] = key(scores[off + g + i], i);
            }
            java.util.Arrays.sort(group);
            for (int i = 0; i < drop; i++) {
                pruned[outOff + g + (int) group[i]] = true;
            }
        }
    }

    /** Rearranges keys[lo..hi] so that keys[nth] holds its sorted value, smaller ones before it. */
    static void select(long[] a, int lo, int hi, int nth) {
        while (hi > lo) {
            if (hi - lo < 16) {
                java.util.Arrays.sort(a, lo, hi + 1);
                return;
            }
            int mid = (lo + hi) >>> 1;
            // median of three as pivot; keys are distinct (positions differ), so no degenerate runs
            long x = a[lo], y = a[mid], z = a[hi];
            long pivot = x < y ? (y < z ? y : Math.max(x, z)) : (x < z ? x : Math.max(y, z));
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] < pivot) {
                    i++;
                }
                while (a[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    long t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (nth <= j) {
                hi = j;
            } else if (nth >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }
}
