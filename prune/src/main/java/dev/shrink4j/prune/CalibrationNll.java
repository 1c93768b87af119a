package dev.shrink4j.prune;

import dev.shrink4j.model.Layer;
import dev.shrink4j.model.LlamaModel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Set;

/**
 * Mean next-token NLL of the model on sequences of T tokens (T − 1 predictions each, sums in fp64),
 * computed block by block so a block can be skipped or swapped for a transformed copy that lives only
 * while its block runs. It scores the greedy loops (2SSP stage 2 scores its calibration sample
 * without BOS, docs/methods/2ssp.md §3; depth pruning) and the sparsity sweep, whose windows carry BOS first (docs/methods/evaluation.md §1).
 */
public final class CalibrationNll {
    /** Rows of logits computed at a time ((rows, vocab) floats). */
    private static final int LOGIT_ROWS = 128;
    /** Tokens per block forward pass (the same grouping as {@link Chunks}, so results are unchanged). */
    private static final int ROWS_PER_PASS = 4096;

    /** Supplies the layer to run in place of block {@code l}, allocated in {@code arena}. */
    @FunctionalInterface
    public interface LayerSource {
        Layer layer(int l, Layer original, Arena arena);
    }

    private CalibrationNll() {}

    /**
     * @param tokens (sequences, seqLen) token ids
     * @param skip   blocks bypassed entirely (their output is their input); empty for none
     */
    public static double mean(LlamaModel model, int[] tokens, int sequences, int seqLen, Set<Integer> skip) {
        return mean(model, tokens, sequences, seqLen, skip, null);
    }

    /**
     * As above, running {@code source}'s layer for each block (the model's own when null). The hidden
     * states of all sequences live off-heap (long offsets: 128 × 2048 × 8192 floats overflow an int)
     * and each block runs on them {@link #ROWS_PER_PASS} tokens at a time.
     */
    public static double mean(LlamaModel model, int[] tokens, int sequences, int seqLen, Set<Integer> skip,
                              LayerSource source) {
        int h = model.config().hiddenSize();
        int per = Math.max(1, ROWS_PER_PASS / seqLen);
        long seqFloats = (long) seqLen * h;
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment states = scratch.allocate(Math.max(1, sequences * seqFloats * Float.BYTES), 64); // (sequences·T, h)
            for (int s0 = 0; s0 < sequences; s0 += per) {
                int b = Math.min(per, sequences - s0);
                float[] x = model.embed(Arrays.copyOfRange(tokens, s0 * seqLen, (s0 + b) * seqLen));
                MemorySegment.copy(x, 0, states, ValueLayout.JAVA_FLOAT, s0 * seqFloats * Float.BYTES, x.length);
            }
            for (int l = 0; l < model.numLayers(); l++) {
                if (skip.contains(l)) {
                    continue;
                }
                if (source == null) {
                    forwardInPlace(model, l, states, sequences, seqLen, per);
                } else {
                    Layer original = model.layer(l);
                    try (Arena arena = Arena.ofShared()) {
                        model.setLayer(source.layer(l, original, arena));
                        forwardInPlace(model, l, states, sequences, seqLen, per);
                    } finally {
                        model.setLayer(original);
                    }
                }
            }
            return meanNll(model, states, tokens, sequences, seqLen);
        }
    }

    /** states ← block l (states), {@code per} sequences per pass. */
    private static void forwardInPlace(LlamaModel model, int l, MemorySegment states, int sequences, int seqLen, int per) {
        long seqFloats = (long) seqLen * model.config().hiddenSize();
        float[] x = null, y = null;
        for (int s0 = 0; s0 < sequences; s0 += per) {
            int b = Math.min(per, sequences - s0);
            int len = Math.toIntExact(b * seqFloats);
            if (x == null || x.length != len) {
                x = new float[len];
                y = new float[len];
            }
            long off = s0 * seqFloats * Float.BYTES;
            MemorySegment.copy(states, ValueLayout.JAVA_FLOAT, off, x, 0, len);
            model.forwardLayer(l, x, b, seqLen, y, null);
            MemorySegment.copy(y, 0, states, ValueLayout.JAVA_FLOAT, off, len);
        }
    }

    /** Mean NLL of the next-token predictions from the final hidden states, one sequence at a time. */
    private static double meanNll(LlamaModel model, MemorySegment states, int[] tokens, int sequences, int seqLen) {
        int vocab = model.config().vocabSize();
        float[] x = new float[seqLen * model.config().hiddenSize()]; // (T, h), one sequence
        double sum = 0;
        long count = 0;
        for (int s = 0; s < sequences; s++) {
            MemorySegment.copy(states, ValueLayout.JAVA_FLOAT, (long) s * x.length * Float.BYTES, x, 0, x.length);
            for (int r0 = 0; r0 < seqLen - 1; r0 += LOGIT_ROWS) {
                int r1 = Math.min(seqLen - 1, r0 + LOGIT_ROWS);
                float[] logits = model.logits(x, r0, r1);
                for (int r = 0; r < r1 - r0; r++) {
                    int target = tokens[s * seqLen + r0 + r + 1];
                    sum += nll(logits, r * vocab, vocab, target);
                    count++;
                }
            }
        }
        return sum / count;
    }

    /**
     * Evaluation windows of docs/methods/evaluation.md §1: the text's tokens (no BOS) cut into consecutive non-overlapping
     * windows of T − 1, the incomplete tail dropped, each with BOS prepended.
     *
     * @return (windows, T) ids; at most {@code maxWindows} windows (≤ 0: all)
     */
    public static int[] windows(int[] textTokens, int seqLen, int bos, int maxWindows) {
        int w = textTokens.length / (seqLen - 1);
        if (maxWindows > 0) {
            w = Math.min(w, maxWindows);
        }
        int[] out = new int[w * seqLen];
        for (int i = 0; i < w; i++) {
            out[i * seqLen] = bos;
            System.arraycopy(textTokens, i * (seqLen - 1), out, i * seqLen + 1, seqLen - 1);
        }
        return out;
    }

    /** −log softmax(logits)[target] for one row, in fp64. */
    static double nll(float[] logits, int off, int vocab, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
            max = Math.max(max, logits[off + v]);
        }
        double z = 0;
        for (int v = 0; v < vocab; v++) {
            z += Math.exp(logits[off + v] - max);
        }
        return Math.log(z) + max - logits[off + target];
    }
}
