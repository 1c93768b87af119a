package dev.shrink4j.lowrank;

import java.util.List;

/**
 * Where calibrated methods get their statistics: the model's block pipeline (§1.2). For each block
 * it names the true-sequential groups, runs the calibration inputs up to a group (through the
 * already-compressed members before it), takes the compressed weights back, and finally propagates
 * the block output to the next block.
 */
public interface BlockStatistics {
    /** The linear modules of block {@code layer} grouped by shared input, in execution order. */
    List<List<String>> groups(int layer);

    /** Statistics of the input that every member of {@code group} reads, as {@code method} needs them. */
    LinearStats observe(int layer, List<String> group, LowRankMethod method);

    /** Installs the compressed Ŵ (dOut, dIn) of {@code module} for the rest of the run. */
    void install(int layer, String module, float[] merged);

    /** Block {@code layer} is done: compute its output with the compressed weights for the next block. */
    void finish(int layer);
}
