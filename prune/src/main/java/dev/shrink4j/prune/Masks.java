package dev.shrink4j.prune;

/** Small helpers on pruning masks ({@code true} = pruned). */
public final class Masks {
    private Masks() {}

    /** Zeroes {@code w[i]} where {@code pruned[i]}. */
    public static void apply(float[] w, boolean[] pruned) {
        for (int i = 0; i < w.length; i++) {
            if (pruned[i]) {
                w[i] = 0f;
            }
        }
    }

    public static long count(boolean[] pruned) {
        long n = 0;
        for (boolean b : pruned) {
            if (b) {
                n++;
            }
        }
        return n;
    }

    /** Number of exact zeros in w. */
    public static long zeros(float[] w) {
        long n = 0;
        for (float v : w) {
            if (v == 0f) {
                n++;
            }
        }
        return n;
    }
}
