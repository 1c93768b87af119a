package dev.shrink4j.quantize;

import dev.shrink4j.tensors.formats.UniformGrid;

/**
 * GPTQ's knobs with the names of docs/methods/rtn-gptq.md §2 and the paper.
 *
 * @param groupSize       G_q; d_in or more means one group per row
 * @param actOrder        quantize columns in order of decreasing diag(H)
 * @param staticGroups    group parameters fixed from the original W before any update (docs/methods/rtn-gptq.md §2.1 step 3)
 * @param blockSize       bs, the lazy-update column block (128)
 * @param damp            δ of docs/methods/pipeline.md §3 (0.01), relative to mean(diag H)
 * @param keepDeadColumns keep W[:, i] where H_ii = 0 (rounded as RTN) instead of zeroing it
 */
public record GptqOptions(int bits, int groupSize, boolean symmetric, boolean actOrder, boolean staticGroups,
                          int blockSize, double damp, boolean keepDeadColumns) {
    public GptqOptions {
        UniformGrid.checkBits(bits);
        if (groupSize < 1 || blockSize < 1 || !(damp >= 0)) {
            throw new IllegalArgumentException("group size and block size must be positive, damping non-negative");
        }
    }

    /** The docs/methods/rtn-gptq.md §2 defaults: actOrder with static groups, bs = 128, δ = 0.01. */
    public static GptqOptions defaults(int bits, int groupSize, boolean symmetric) {
        return new GptqOptions(bits, groupSize, symmetric, true, true, 128, dev.shrink4j.tensors.linalg.Damping.Policy.GPTQ.initialDelta(), false);
    }

    public GptqOptions withActOrder(boolean actOrder, boolean staticGroups) {
        return new GptqOptions(bits, groupSize, symmetric, actOrder, staticGroups, blockSize, damp, keepDeadColumns);
    }

    public GptqOptions withBlockSize(int blockSize) {
        return new GptqOptions(bits, groupSize, symmetric, actOrder, staticGroups, blockSize, damp, keepDeadColumns);
    }
}
