package dev.shrink4j.prune;

import dev.shrink4j.model.LinearObserver;
import dev.shrink4j.model.LlamaModel;

/**
 * Runs a block over many sequences a few at a time, so the block's temporaries (attention scores,
 * the (n, d_ff) FFN activations) stay bounded while the hidden states of all sequences are kept.
 */
final class Chunks {
    /** Tokens per forward pass. */
    static final int ROWS_PER_PASS = 4096;

    private Chunks() {}

    static int sequencesPerPass(int seqLen) {
        return Math.max(1, ROWS_PER_PASS / seqLen);
    }

    /**
     * out = block l (x), chunk by chunk.
     *
     * @param x   (sequences·seqLen, hidden)
     * @param out (sequences·seqLen, hidden); Modified
     */
    static void forward(LlamaModel model, int l, float[] x, int sequences, int seqLen, float[] out, LinearObserver observer) {
        int per = sequencesPerPass(seqLen);
        if (per >= sequences) {
            model.forwardLayer(l, x, sequences, seqLen, out, observer);
            return;
        }
        int h = model.config().hiddenSize();
        int rows = per * seqLen * h;
        float[] xs = new float[rows];
        float[] ys = new float[rows];
        for (int s0 = 0; s0 < sequences; s0 += per) {
            int b = Math.min(per, sequences - s0);
            int len = b * seqLen * h;
            float[] xc = b == per ? xs : new float[len];
            float[] yc = b == per ? ys : new float[len];
            System.arraycopy(x, s0 * seqLen * h, xc, 0, len);
            model.forwardLayer(l, xc, b, seqLen, yc, observer);
            System.arraycopy(yc, 0, out, s0 * seqLen * h, len);
        }
    }
}
