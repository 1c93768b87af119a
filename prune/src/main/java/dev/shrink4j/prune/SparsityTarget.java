package dev.shrink4j.prune;

import dev.shrink4j.tensors.ShrinkException;

/** Validation of user-given pruning fractions. */
public final class SparsityTarget {
    private SparsityTarget() {}

    /**
     * Returns {@code s} when it is a fraction in [0, 1); otherwise throws a message naming
     * {@code what} (a flag or a tensor). 1 would remove every weight, so it is refused.
     */
    public static double check(double s, String what) {
        if (!(s >= 0.0 && s < 1.0)) {
            throw new ShrinkException(what + ": sparsity must be a fraction in [0, 1), got " + s
                    + (s >= 1.0 && s < 100.0 ? " (write 0.5 for 50%)" : ""));
        }
        return s;
    }

    /** Number of weights to remove out of {@code total}: ⌊p·total⌋ (docs/methods/pruning.md §1). */
    public static long count(double p, long total) {
        return (long) Math.floor(p * total);
    }
}
