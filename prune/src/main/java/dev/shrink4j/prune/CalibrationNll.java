package dev.shrink4j.prune;

import dev.shrink4j.model.Layer;
import dev.shrink4j.model.LlamaModel;
import java.lang.foreign.Arena;
import java.util.Set;

/**
 * Mean next-token NLL of the model on sequences of T tokens (T − 1 predictions each, sums in fp64),
 * computed block by block so a block can be skipped or swapped for a transformed copy that lives only
 * while its block runs. It scores the greedy loops (2SSP stage 2 scores its calibration sample
 * without BOS, §5.3; depth pruning) and the sparsity sweep, whose windows carry BOS first (§9.2).
 */
public final class CalibrationNll {
    /** Rows of logits computed at a time ((rows, vocab) floats). */
    private static final int LOGIT_ROWS = 128;

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

    /** As above, running {@code source}'s layer for each block (the model's own when null). */
    public static double mean(LlamaModel model, int[] tokens, int sequences, int seqLen, Set<Integer> skip,
                              LayerSource source) {
        int vocab = model.config().vocabSize();
        float[] x = model.embed(tokens);
        float[] y = new float[x.length];
        for (int l = 0; l < model.numLayers(); l++) {
            if (skip.contains(l)) {
                continue;
            }
            if (source == null) {
                Chunks.forward(model, l, x, sequences, seqLen, y, null);
            } else {
                Layer original = model.layer(l);
                try (Arena arena = Arena.ofShared()) {
                    model.setLayer(source.layer(l, original, arena));
                    Chunks.forward(model, l, x, sequences, seqLen, y, null);
                } finally {
                    model.setLayer(original);
                }
            }
            float[] t = x;
            x = y;
            y = t;
        }
        double sum = 0;
        long count = 0;
        for (int s = 0; s < sequences; s++) {
            for (int r0 = 0; r0 < seqLen - 1; r0 += LOGIT_ROWS) {
                int r1 = Math.min(seqLen - 1, r0 + LOGIT_ROWS);
                float[] logits = model.logits(x, s * seqLen + r0, s * seqLen + r1);
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
     * Evaluation windows of §9.2: the text's tokens (no BOS) cut into consecutive non-overlapping
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
