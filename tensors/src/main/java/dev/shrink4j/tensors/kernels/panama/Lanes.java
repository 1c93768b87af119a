package dev.shrink4j.tensors.kernels.panama;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The sum of a vector's lanes in one fixed order. {@code reduceLanes(ADD)} leaves the order open, and
 * HotSpot uses a different one in the interpreter than in C2: 667 of 1000 random 16-lane sums differed
 * in the last bit between a method's first (interpreted) calls and its compiled ones, so a kernel
 * returned different bits for the same input depending on how warm the JIT was. Folding the upper half
 * onto the lower half with lane-wise adds gives the same tree in every tier: for 16 lanes, lane i takes
 * i + 8, then i + 4, i + 2, i + 1, and the total is left in lane 0.
 */
final class Lanes {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final int LF = F.length();
    private static final int LD = D.length();
    // FOLD_k: lane i reads lane i + k (wrapping; the wrapped lanes are never used).
    private static final VectorShuffle<Float> F8 = VectorShuffle.iota(F, Math.min(8, LF - 1), 1, true);
    private static final VectorShuffle<Float> F4 = VectorShuffle.iota(F, 4 % LF, 1, true);
    private static final VectorShuffle<Float> F2 = VectorShuffle.iota(F, 2 % LF, 1, true);
    private static final VectorShuffle<Float> F1 = VectorShuffle.iota(F, 1, 1, true);
    private static final VectorShuffle<Double> D4 = VectorShuffle.iota(D, 4 % LD, 1, true);
    private static final VectorShuffle<Double> D2 = VectorShuffle.iota(D, 2 % LD, 1, true);
    private static final VectorShuffle<Double> D1 = VectorShuffle.iota(D, 1, 1, true);

    static {
        if (LF > 16 || LD > 8) throw new AssertionError("vectors wider than 512 bits: extend the folds");
    }

    private Lanes() {}

    /** Σ lanes of v, folded in halves (see the class comment); the same bits in every JIT tier. */
    static float sum(FloatVector v) {
        if (LF >= 16) v = v.add(v.rearrange(F8));
        if (LF >= 8) v = v.add(v.rearrange(F4));
        if (LF >= 4) v = v.add(v.rearrange(F2));
        return v.add(v.rearrange(F1)).lane(0);
    }

    /** As {@link #sum(FloatVector)} for doubles. */
    static double sum(DoubleVector v) {
        if (LD >= 8) v = v.add(v.rearrange(D4));
        if (LD >= 4) v = v.add(v.rearrange(D2));
        return v.add(v.rearrange(D1)).lane(0);
    }
}
