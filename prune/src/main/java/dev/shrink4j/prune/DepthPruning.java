package dev.shrink4j.prune;

import dev.shrink4j.model.LlamaModel;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Block-level depth pruning, the whole-block baseline 2SSP is compared with (docs/methods/evaluation.md §2; BlockPruner,
 * arXiv:2406.10594, ShortGPT): remove whole decoder blocks greedily, each round the one whose removal
 * gives the lowest calibration perplexity. Whole blocks only reach multiples of 1/L of P_main, so the
 * baseline runs at the nearest reachable sparsity.
 */
public final class DepthPruning {
    private DepthPruning() {}

    /** Blocks to remove for the reachable sparsity nearest to s (ties: fewer blocks), at least 0. */
    public static int blocksFor(double s, int layers) {
        return (int) Math.rint(SparsityTarget.check(s, "--sparsity") * layers);
    }

    /**
     * Greedy removal of {@code count} blocks scored on {@code calibration} ((sequences, seqLen) ids).
     *
     * @return the rounds; the removed set is their union
     */
    public static List<GreedyRemoval.Step> run(LlamaModel model, int[] calibration, int sequences, int seqLen,
                                               int count, GreedyRemoval.Progress progress) {
        return run(model, calibration, sequences, seqLen, count, progress, GreedyRemoval.Journal.NONE);
    }

    /** As above, with the rounds {@code journal} keeps (resume). */
    public static List<GreedyRemoval.Step> run(LlamaModel model, int[] calibration, int sequences, int seqLen,
                                               int count, GreedyRemoval.Progress progress, GreedyRemoval.Journal journal) {
        GreedyRemoval.Scorer scorer = disabled -> Math.exp(CalibrationNll.mean(model, calibration, sequences, seqLen, disabled));
        return GreedyRemoval.run(model.numLayers(), new TreeSet<>(), count, scorer, progress, journal);
    }

    /** The blocks kept, ascending, after removing the steps' choices. */
    public static int[] kept(int layers, List<GreedyRemoval.Step> steps) {
        SortedSet<Integer> removed = new TreeSet<>();
        steps.forEach(s -> removed.add(s.removed()));
        return java.util.stream.IntStream.range(0, layers).filter(l -> !removed.contains(l)).toArray();
    }
}
