package dev.shrink4j.quantize;

import java.util.List;
import java.util.function.Function;

/**
 * The k largest values over many arrays (one per tensor) without sorting or copying them all: a radix
 * select on the order-preserving integer key of the float bits, two counting passes (a histogram of the
 * top 16 bits, then of the low 16 bits inside the chosen bucket; the magnitude-pruning selection of
 * docs/methods/pruning.md uses the same scheme), then ties at the threshold taken in tensor order,
 * position order. Used for the concentration check of docs/methods/pqi-requant.md §2 and the global
 * top-β selection of docs/methods/pqi-requant.md §5.
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
     * top k ({@code above} of them), plus the first {@code ties} values with key = τ. NaNs are never selected.
     */
    record Threshold(int key, long ties, long above) {}

    /**
     * @param eligible per array, whether position i may be selected (null: all)
     */
    static Threshold threshold(List<String> names, Function<String, float[]> values, Function<String, boolean[]> eligible, long k) {
        long[] hi = new long[1 << 16];
        long total = 0;
        for (String n : names) {
            float[] v = values.apply(n);
            boolean[] ok = eligible == null ? null : eligible.apply(n);
            for (int i = 0; i < v.length; i++) {
                if (Float.isNaN(v[i]) || (ok != null && !ok[i])) continue;
                hi[(key(v[i]) ^ 0x80000000) >>> 16]++;
                total++;
            }
        }
        k = Math.min(k, total);
        if (k <= 0) return new Threshold(Integer.MAX_VALUE, 0, 0);
        long above = 0;
        int b = hi.length - 1;
        while (above + hi[b] < k) above += hi[b--];
        long[] lo = new long[1 << 16];
        for (String n : names) {
            float[] v = values.apply(n);
            boolean[] ok = eligible == null ? null : eligible.apply(n);
            for (int i = 0; i < v.length; i++) {
                if (Float.isNaN(v[i]) || (ok != null && !ok[i])) continue;
                int u = key(v[i]) ^ 0x80000000;
                if (u >>> 16 == b) lo[u & 0xffff]++;
            }
        }
        int l = lo.length - 1;
        while (above + lo[l] < k) above += lo[l--];
        int tau = ((b << 16) | l) ^ 0x80000000;
        return new Threshold(tau, k - above, above);
    }
}
