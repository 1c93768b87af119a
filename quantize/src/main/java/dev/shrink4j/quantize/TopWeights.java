package dev.shrink4j.quantize;

import java.util.List;
import java.util.function.Function;

/**
 * The k largest values over many arrays (one per tensor) without sorting or copying them all: a
 * bisection on the order-preserving integer key of the float bits (32 counting passes), then ties at
 * the threshold taken in tensor order, position order. Used for the concentration check of
 * docs/methods/pqi-requant.md §2 and the global top-β selection of §5.
 */
final class TopWeights {
    private TopWeights() {}

    /** Floats ordered as signed ints: flip the magnitude bits of negatives. */
    static int key(float f) {
        int b = Float.floatToRawIntBits(f);
        return b ^ ((b >> 31) & 0x7fffffff);
    }

    /**
     * The threshold key τ and how many values equal to it are taken: every value with key > τ is in the
     * top k, plus the first {@code ties} values with key = τ. NaNs are never selected (they are mapped below).
     *
     * @param eligible per array, whether position i may be selected (null: all)
     */
    record Threshold(int key, long ties, long above) {}

    static Threshold threshold(List<String> names, Function<String, float[]> values, Function<String, boolean[]> eligible, long k) {
        long lo = Integer.MIN_VALUE, hi = Integer.MAX_VALUE; // find the largest τ with count(key ≥ τ) ≥ k
        if (k <= 0) return new Threshold(Integer.MAX_VALUE, 0, 0);
        while (lo < hi) {
            long mid = (lo + hi + 1) >> 1;
            if (count(names, values, eligible, (int) mid) >= k) lo = mid;
            else hi = mid - 1;
        }
        int tau = (int) lo;
        long above = tau == Integer.MAX_VALUE ? 0 : count(names, values, eligible, tau + 1);
        long atTau = count(names, values, eligible, tau) - above;
        return new Threshold(tau, Math.min(atTau, k - above), above);
    }

    private static long count(List<String> names, Function<String, float[]> values, Function<String, boolean[]> eligible, int tau) {
        long c = 0;
        for (String n : names) {
            float[] v = values.apply(n);
            boolean[] ok = eligible == null ? null : eligible.apply(n);
            for (int i = 0; i < v.length; i++) {
                if (!Float.isNaN(v[i]) && key(v[i]) >= tau && (ok == null || ok[i])) c++;
            }
        }
        return c;
    }
}
