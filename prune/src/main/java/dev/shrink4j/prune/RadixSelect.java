package dev.shrink4j.prune;

import java.util.Arrays;

/**
 * Global magnitude thresholds without sorting (docs/methods/pruning.md §1, docs/methods/essential-sparsity.md §2): a two-pass radix select on the IEEE bit
 * pattern of |w| (positive floats order like integers). Pass 1 counts the top 16 bits of every
 * |w| in 65 536 counters; pass 2 refines, for every requested rank at once, the one bucket holding
 * it on the low 16 bits. Lifecycle: {@link #countHigh} over all values, {@link #plan}, {@link
 * #countLow} over the same values in the same order, {@link #cut}.
 *
 * <p>The {@code k} smallest in (|w|, scan position) order are pruned: every value whose key is below
 * the cut's key, plus the first {@link Cut#takeAtKey()} values equal to it in scan order.
 */
public final class RadixSelect {
    private final long[] high = new long[1 << 16];
    private long total;
    private long[] ranks;
    private int[] slotOfBucket;
    private long[][] low;
    private long[] belowBucket;
    private int[] bucketOfRank;

    /** A threshold: prune keys below {@code key}, and the first {@code takeAtKey} equal to it. */
    public record Cut(long rank, int key, long takeAtKey) {
        static final Cut NONE = new Cut(0, 0, 0);

        /** A fresh stateful applier (ties are counted in scan order). */
        public Applier applier() {
            return new Applier(this);
        }
    }

    /** Applies a {@link Cut} to values in scan order, remembering how many ties it has used. */
    public static final class Applier {
        private final int key;
        private long ties;

        Applier(Cut cut) {
            this.key = cut.rank == 0 ? -1 : cut.key;
            this.ties = cut.takeAtKey;
        }

        /** True when the next value in scan order, with magnitude bits {@code k}, is pruned. */
        public boolean prune(int k) {
            if (k < key) {
                return true;
            }
            if (k == key && ties > 0) {
                ties--;
                return true;
            }
            return false;
        }

        /** Zeroes pruned values of {@code w[off, off+len)} in place; returns how many it zeroed. */
        public int apply(float[] w, int off, int len) {
            int n = 0;
            for (int i = off; i < off + len; i++) {
                if (prune(Float.floatToRawIntBits(w[i]) & 0x7fffffff)) {
                    w[i] = 0f;
                    n++;
                }
            }
            return n;
        }
    }

    static int magnitudeKey(float v) {
        return Float.floatToRawIntBits(v) & 0x7fffffff;
    }

    /** Pass 1 over a chunk of values (sign ignored). */
    public void countHigh(float[] v, int off, int len) {
        for (int i = off; i < off + len; i++) {
            high[magnitudeKey(v[i]) >>> 16]++;
        }
        total += len;
    }

    public long total() {
        return total;
    }

    /** Fixes the ranks (numbers of values to prune) that pass 2 will resolve. */
    public void plan(long... ranks) {
        this.ranks = ranks.clone();
        slotOfBucket = new int[1 << 16];
        Arrays.fill(slotOfBucket, -1);
        bucketOfRank = new int[ranks.length];
        belowBucket = new long[ranks.length];
        int slots = 0;
        int[] slotBuckets = new int[ranks.length];
        for (int r = 0; r < ranks.length; r++) {
            long k = ranks[r];
            if (k < 0 || k > total) {
                throw new IllegalArgumentException("rank " + k + " outside [0, " + total + "]");
            }
            if (k == 0) {
                bucketOfRank[r] = -1;
                continue;
            }
            long cum = 0;
            int b = 0;
            while (cum + high[b] < k) {
                cum += high[b];
                b++;
            }
            bucketOfRank[r] = b;
            belowBucket[r] = cum;
            if (slotOfBucket[b] < 0) {
                slotBuckets[slots] = b;
                slotOfBucket[b] = slots++;
            }
        }
        low = new long[slots][1 << 16];
    }

    /** Pass 2 over the same values in the same order as pass 1. */
    public void countLow(float[] v, int off, int len) {
        for (int i = off; i < off + len; i++) {
            int k = magnitudeKey(v[i]);
            int s = slotOfBucket[k >>> 16];
            if (s >= 0) {
                low[s][k & 0xffff]++;
            }
        }
    }

    /** The cut for the r-th planned rank. */
    public Cut cut(int r) {
        long k = ranks[r];
        if (k == 0) {
            return Cut.NONE;
        }
        int b = bucketOfRank[r];
        long[] h = low[slotOfBucket[b]];
        long cum = belowBucket[r];
        int lo = 0;
        while (cum + h[lo] < k) {
            cum += h[lo];
            lo++;
        }
        return new Cut(k, (b << 16) | lo, k - cum);
    }

    /** Convenience for one in-memory array: the cut that prunes the k smallest |v|. */
    public static Cut of(float[] v, long k) {
        RadixSelect s = new RadixSelect();
        s.countHigh(v, 0, v.length);
        s.plan(k);
        s.countLow(v, 0, v.length);
        return s.cut(0);
    }
}
