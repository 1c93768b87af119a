package dev.shrink4j.prune;

import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * Global one-shot magnitude pruning (docs/methods/pruning.md §1, docs/methods/essential-sparsity.md §2 "OMP"): one threshold over the pooled |w| of many
 * matrices, found by radix select on their bit patterns while they stay memory-mapped; the weights
 * are read twice in fixed chunks and never sorted. All sparsity levels of a sweep share both passes.
 * The scan order (the list order, then row-major) breaks ties, so {@link #cuts} must be applied in
 * the same order.
 */
public final class GlobalMagnitude {
    /** Floats read per chunk. */
    private static final int CHUNK = 1 << 20;

    /**
     * A matrix opened for one read: a mapped one as it is, a compressed one dequantized into the
     * given arena, which is closed as soon as the matrix has been read.
     */
    @FunctionalInterface
    public interface Matrix {
        Tensor open(Arena arena);
    }

    private GlobalMagnitude() {}

    /**
     * One cut per level: level p prunes ⌊p·N⌋ weights, N the total number of weights.
     *
     * @param tensors the included matrices (any float dtype), in scan order
     */
    public static RadixSelect.Cut[] cuts(List<Tensor> tensors, double[] levels) {
        return cutsOver(tensors.stream().map(t -> (Matrix) arena -> t).toList(), levels);
    }

    /**
     * As {@link #cuts}, opening each matrix once per pass in its own arena, so at most one
     * dequantized copy exists at a time (a compressed model is dequantized twice, never held whole).
     *
     * @param matrices the included matrices, in scan order
     */
    public static RadixSelect.Cut[] cutsOver(List<Matrix> matrices, double[] levels) {
        RadixSelect select = new RadixSelect();
        float[] buf = new float[CHUNK];
        for (Matrix m : matrices) {
            forChunks(m, buf, n -> select.countHigh(buf, 0, n));
        }
        long[] ranks = new long[levels.length];
        for (int i = 0; i < levels.length; i++) {
            ranks[i] = SparsityTarget.count(SparsityTarget.check(levels[i], "global magnitude level"), select.total());
        }
        select.plan(ranks);
        for (Matrix m : matrices) {
            forChunks(m, buf, n -> select.countLow(buf, 0, n));
        }
        RadixSelect.Cut[] cuts = new RadixSelect.Cut[levels.length];
        for (int i = 0; i < levels.length; i++) {
            cuts[i] = select.cut(i);
        }
        return cuts;
    }

    private static void forChunks(Matrix m, float[] buf, java.util.function.IntConsumer body) {
        try (Arena arena = Arena.ofShared()) { // shared: dequantization may split rows across threads
            Tensor t = m.open(arena);
            long n = t.numel();
            for (long from = 0; from < n; from += buf.length) {
                int len = (int) Math.min(buf.length, n - from);
                t.readFloats(from, buf, 0, len);
                body.accept(len);
            }
        }
    }
}
