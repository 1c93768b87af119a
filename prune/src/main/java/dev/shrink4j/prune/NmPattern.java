package dev.shrink4j.prune;

import dev.shrink4j.tensors.ShrinkException;

/**
 * N:M semi-structured sparsity: keep {@code n} of every {@code m} consecutive input columns in each
 * row (shrink4j convention, docs/methods/pruning.md §1). 2:4 and 4:8 are the supported patterns.
 */
public record NmPattern(int n, int m) {
    public static final NmPattern TWO_FOUR = new NmPattern(2, 4);
    public static final NmPattern FOUR_EIGHT = new NmPattern(4, 8);

    public NmPattern {
        if (m <= 0 || n <= 0 || n >= m) {
            throw new ShrinkException("N:M pattern needs 0 < N < M, got " + n + ":" + m);
        }
    }

    /**
     * Parses {@code "2:4"} or {@code "4:8"}; returns null for {@code "unstructured"}. Other strings
     * are refused with a message naming the flag.
     */
    public static NmPattern parse(String text, String flag) {
        String t = text.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("unstructured") || t.equals("none")) {
            return null;
        }
        String[] parts = t.split(":");
        try {
            if (parts.length == 2) {
                NmPattern p = new NmPattern(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
                if (p.equals(TWO_FOUR) || p.equals(FOUR_EIGHT)) {
                    return p;
                }
            }
        } catch (NumberFormatException | ShrinkException e) {
            // fall through to the message below
        }
        throw new ShrinkException(flag + ": expected unstructured, 2:4 or 4:8, got '" + text + "'");
    }

    /** Fraction of weights removed: 1 − n/m. */
    public double sparsity() {
        return 1.0 - (double) n / m;
    }

    /** Refuses a matrix whose rows cannot be cut into groups of m input columns. */
    public void checkColumns(long dIn, String tensor) {
        if (dIn % m != 0) {
            throw new ShrinkException(tensor + ": pattern " + this + " needs the input size (" + dIn
                    + " columns) to be a multiple of " + m);
        }
    }

    @Override
    public String toString() {
        return n + ":" + m;
    }
}
