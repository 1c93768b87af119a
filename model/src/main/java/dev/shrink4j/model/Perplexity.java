package dev.shrink4j.model;

import dev.shrink4j.tensors.ShrinkException;

/**
 * Perplexity and KL divergence by the shrink4j protocol (docs/methods/evaluation.md §1): the text is tokenized once
 * without BOS; the stream is cut into consecutive non-overlapping windows of T − 1 tokens (the tail
 * dropped); each window is scored with a fresh context and BOS prepended, T − 1 predictions covering
 * every token of the window; NLL is the token-weighted mean over all windows, accumulated in fp64.
 * With a reference model, KL(P_ref ‖ P_model) = Σ_v p_ref(v)(log p_ref(v) − log p_model(v)) is
 * averaged over the same predictions.
 */
public final class Perplexity {
    /** Tokens scored per forward pass: windows are batched up to this many rows. */
    private static final int ROWS_PER_PASS = 2048;
    /** Positions whose vocabulary-wide logits exist at once. */
    private static final int LOGIT_ROWS = 256;

    /**
     * @param nll     mean negative log-likelihood, nats per token
     * @param ppl     exp(nll)
     * @param tokens  predicted tokens
     * @param windows windows scored
     * @param kl      mean KL(P_ref ‖ P_model) in nats per token, NaN without a reference
     * @param seqLen  T (window length including BOS)
     */
    public record Result(double nll, double ppl, long tokens, int windows, double kl, int seqLen) {}

    /** Running figures after each forward pass, for progress lines (llama-perplexity prints the same). */
    @FunctionalInterface
    public interface Listener {
        /**
         * @param windowsDone windows scored so far, of {@code windows}
         * @param runningNll  mean NLL over the tokens scored so far (nats/token)
         */
        void progress(int windowsDone, int windows, double runningNll);
    }

    private Perplexity() {}

    /** Number of windows of T − 1 tokens in a stream of {@code streamTokens}. */
    public static int windowCount(int streamTokens, int seqLen) {
        return streamTokens / (seqLen - 1);
    }

    /**
     * Scores {@code stream} (the text's tokens, no BOS) with {@code model}; {@code reference} may be
     * null. {@code maxWindows} ≤ 0 means all windows.
     */
    public static Result evaluate(LlamaModel model, int[] stream, int seqLen, int maxWindows, LlamaModel reference) {
        return evaluate(model, stream, seqLen, maxWindows, reference, null);
    }

    /** As above; {@code listener} (may be null) hears the running NLL after every batch of windows. */
    public static Result evaluate(LlamaModel model, int[] stream, int seqLen, int maxWindows, LlamaModel reference, Listener listener) {
        ModelConfig c = model.config();
        if (seqLen < 2) {
            throw new ShrinkException("--seq-len " + seqLen + " is too short: need at least 2 (BOS + one token)");
        }
        if (seqLen > c.maxPositions()) {
            throw new ShrinkException("--seq-len " + seqLen + " exceeds the model's context of " + c.maxPositions() + " tokens");
        }
        if (reference != null && reference.config().vocabSize() != c.vocabSize()) {
            throw new ShrinkException("reference model has vocabulary " + reference.config().vocabSize() + ", model has " + c.vocabSize());
        }
        int windows = windowCount(stream.length, seqLen);
        if (windows == 0) {
            throw new ShrinkException("text has " + stream.length + " tokens, fewer than one window of " + (seqLen - 1)
                    + " (seq-len " + seqLen + " minus BOS)");
        }
        if (maxWindows > 0) windows = Math.min(windows, maxWindows);
        int bos = c.bosTokenId();
        int perPass = Math.max(1, ROWS_PER_PASS / seqLen);
        double nllSum = 0;
        double klSum = 0;
        long tokens = 0;
        int v = c.vocabSize();
        for (int w0 = 0; w0 < windows; w0 += perPass) {
            int batch = Math.min(perPass, windows - w0);
            int[] input = new int[batch * seqLen];
            for (int b = 0; b < batch; b++) {
                input[b * seqLen] = bos;
                System.arraycopy(stream, (w0 + b) * (seqLen - 1), input, b * seqLen + 1, seqLen - 1);
            }
            float[] hidden = model.hidden(input, batch);
            float[] refHidden = reference != null ? reference.hidden(input, batch) : null;
            for (int b = 0; b < batch; b++) {
                // Positions 0..T−2 predict inputs 1..T−1; the last position's logits are not needed.
                // Logits are formed LOGIT_ROWS positions at a time (vocabulary-wide rows are large).
                int r0 = b * seqLen;
                for (int p0 = 0; p0 < seqLen - 1; p0 += LOGIT_ROWS) {
                    int rows = Math.min(LOGIT_ROWS, seqLen - 1 - p0);
                    float[] logits = model.logits(hidden, r0 + p0, r0 + p0 + rows);
                    float[] refLogits = refHidden != null ? reference.logits(refHidden, r0 + p0, r0 + p0 + rows) : null;
                    for (int i = 0; i < rows; i++) {
                        int target = input[r0 + p0 + i + 1];
                        double lse = logSumExp(logits, i * v, v);
                        nllSum += lse - logits[i * v + target];
                        if (refLogits != null) klSum += kl(refLogits, logits, i * v, v, lse);
                        tokens++;
                    }
                }
            }
            if (listener != null) listener.progress(w0 + batch, windows, nllSum / tokens);
        }
        double nll = nllSum / tokens;
        return new Result(nll, Math.exp(nll), tokens, windows, reference != null ? klSum / tokens : Double.NaN, seqLen);
    }

    static double logSumExp(float[] x, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.exp(x[off + i] - max);
        return max + Math.log(s);
    }

    /** KL(softmax(ref) ‖ softmax(model)) of one row; {@code lseModel} is the model row's log-sum-exp. */
    private static double kl(float[] ref, float[] model, int off, int n, double lseModel) {
        double lseRef = logSumExp(ref, off, n);
        double s = 0;
        for (int i = 0; i < n; i++) {
            double logPr = ref[off + i] - lseRef;
            double logPm = model[off + i] - lseModel;
            s += Math.exp(logPr) * (logPr - logPm);
        }
        return s;
    }
}
