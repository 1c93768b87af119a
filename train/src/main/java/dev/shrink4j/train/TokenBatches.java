package dev.shrink4j.train;

import java.util.SplittableRandom;

/**
 * Training batches drawn from one token stream: batch b of step t is a window of T − 1 consecutive
 * tokens at an offset drawn from (seed, t), with BOS prepended (the evaluation protocol's windows,
 * docs/methods/evaluation.md §1). A step's batch depends only on (seed, t), so a resumed run sees
 * exactly the batches an uninterrupted one would.
 */
public final class TokenBatches {
    private final int[] stream;
    private final int batch;
    private final int seqLen;
    private final int bos;
    private final long seed;

    /**
     * @param stream the training tokens, no BOS
     * @param bos    the BOS id, or −1 to take T tokens without one
     */
    public TokenBatches(int[] stream, int batch, int seqLen, int bos, long seed) {
        int window = bos >= 0 ? seqLen - 1 : seqLen;
        if (stream.length < (long) batch * window) {
            throw new IllegalArgumentException("the training text has " + stream.length + " tokens, fewer than one batch of " + batch + " × "
                    + window);
        }
        this.stream = stream;
        this.batch = batch;
        this.seqLen = seqLen;
        this.bos = bos;
        this.seed = seed;
    }

    /** Tokens of one step, (batch, seqLen) flattened. */
    public int[] step(long t) {
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + t);
        int window = bos >= 0 ? seqLen - 1 : seqLen;
        int[] out = new int[batch * seqLen];
        for (int b = 0; b < batch; b++) {
            int off = rng.nextInt(stream.length - window + 1);
            int o = b * seqLen;
            if (bos >= 0) out[o++] = bos;
            System.arraycopy(stream, off, out, o, window);
        }
        return out;
    }
}
