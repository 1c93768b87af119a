package dev.shrink4j.quantize;

import dev.shrink4j.model.GradientObserver;
import dev.shrink4j.model.LlamaModel;

/**
 * One full-model forward + backward of the token-mean cross-entropy on one calibration sequence
 * (batch 1, METHODS.md §2.3.1, §3.3.1), reporting to the observer. The model module provides it.
 */
@FunctionalInterface
public interface GradientPass {
    /** @param sequence (T) token ids, BOS first */
    void run(LlamaModel model, int[] sequence, GradientObserver observer);
}
