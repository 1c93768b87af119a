package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.ShrinkException;

/**
 * Parameter budgets of docs/methods/lowrank-lost.md §5. A ratio P allows ⌊P·d_in·d_out⌋ stored values per matrix. Plain and
 * whitened SVD spend them on r(d_in + d_out); LOST spends c·d_out on the kept columns first and the
 * rest on r(d_in + d_out). Column ids (c int32) are metadata and not counted, as the issue fixes.
 */
public final class Budgets {
    /** docs/methods/lowrank-lost.md §4 step 4 / docs/methods/lowrank-lost.md §6 default share of input channels kept by LOST. */
    public static final double DEFAULT_RHO = 0.05;
    /** Absorbs binary noise in P·d_in·d_out (0.3·1000 is 299.99999999999994 in fp64). */
    private static final double SLACK = 1e-9;

    private Budgets() {}

    /** ⌊P·d_in·d_out⌋ values for a ratio P in (0, 1]. */
    public static long values(int dOut, int dIn, double ratio) {
        checkRatio(ratio);
        return (long) Math.floor(ratio * dIn * (double) dOut + SLACK);
    }

    public static void checkRatio(double ratio) {
        if (!(ratio > 0 && ratio <= 1)) {
            throw new ShrinkException("params ratio must be in (0, 1], got " + ratio);
        }
    }

    /** The largest r with r(d_in + d_out) ≤ budget, capped at min(d_in, d_out) (docs/methods/lowrank-lost.md §1). */
    public static int svdRank(int dOut, int dIn, double ratio) {
        long r = values(dOut, dIn, ratio) / (dIn + dOut);
        if (r < 1) {
            throw new ShrinkException(String.format(
                    "params ratio %s cannot hold rank 1 of a %dx%d matrix (rank 1 needs %d values, ratio ≥ %.4f)",
                    ratio, dOut, dIn, dIn + dOut, minimumRatio(dOut, dIn, 0)));
        }
        return (int) Math.min(r, Math.min(dIn, dOut));
    }

    /** c = max(1, ⌊ρ·d_in⌋) input channels (docs/methods/lowrank-lost.md §4 step 4). */
    public static int lostColumns(int dIn, double rho) {
        if (!(rho >= 0 && rho < 1)) throw new ShrinkException("LOST column share rho must be in [0, 1), got " + rho);
        return (int) Math.max(1, Math.min(dIn, Math.floor(rho * dIn + SLACK)));
    }

    /** The largest r with r(d_in + d_out) + c·d_out ≤ budget, capped at min(d_in, d_out) (docs/methods/lowrank-lost.md §5). */
    public static int lostRank(int dOut, int dIn, double ratio, int columns) {
        long left = values(dOut, dIn, ratio) - (long) columns * dOut;
        long r = left < 0 ? 0 : left / (dIn + dOut);
        if (r < 1) {
            throw new ShrinkException(String.format(
                    "params ratio %s cannot hold rank 1 plus %d columns of a %dx%d matrix (needs %d values, ratio ≥ %.4f)",
                    ratio, columns, dOut, dIn, dIn + dOut + (long) columns * dOut, minimumRatio(dOut, dIn, columns)));
        }
        return (int) Math.min(r, Math.min(dIn, dOut));
    }

    /** LOST's stored values r(d_in + d_out) + c·d_out (docs/methods/lowrank-lost.md §5, ids not counted). */
    public static long lostParams(int dOut, int dIn, int rank, int columns) {
        return (long) rank * (dIn + dOut) + (long) columns * dOut;
    }

    /** The smallest ratio that holds rank 1 plus {@code columns} columns. */
    public static double minimumRatio(int dOut, int dIn, int columns) {
        return (dIn + dOut + (double) columns * dOut) / ((double) dIn * dOut);
    }

    static void checkRank(int rank, int dOut, int dIn) {
        if (rank < 1 || rank > Math.min(dOut, dIn)) {
            throw new IllegalArgumentException("rank " + rank + " outside [1, " + Math.min(dOut, dIn) + "] for " + dOut + "x" + dIn);
        }
    }
}
