package dev.shrink4j.model;

import java.util.Arrays;

/**
 * Reverse-mode gradients of the token-mean next-token cross-entropy through the whole model
 * (docs/methods/pipeline.md §4: cross-entropy → LM head → final norm → blocks → embeddings). Only block inputs are
 * kept from the forward pass; each block is recomputed, with its intermediates, right before its
 * backward step, so activation memory is L block inputs plus one block's intermediates. The LM head
 * is processed in row chunks so vocabulary-wide logits never exist for the whole batch.
 */
public final class Backprop {
    /** Rows of logits materialized at once in the loss. */
    private static final int LOGIT_ROWS = 256;

    private final LlamaModel model;

    public Backprop(LlamaModel model) {
        this.model = model;
    }

    /**
     * Forward + backward over {@code batch} sequences of equal length flattened in {@code tokens};
     * position t predicts token t + 1 of its sequence. Gradients go to {@code obs} (nullable: loss
     * only, via the same pass). Returns ℓ, the mean NLL over batch·(T − 1) predictions.
     */
    public double run(int[] tokens, int batch, GradientObserver obs) {
        ModelConfig c = model.config();
        int T = tokens.length / batch;
        int n = tokens.length;
        int d = c.hiddenSize();
        int L = model.numLayers();
        TransformerBlock block = model.block();
        float[][] inputs = new float[L + 1][];
        inputs[0] = model.embed(tokens);
        for (int l = 0; l < L; l++) {
            inputs[l + 1] = new float[n * d];
            block.forward(model.layer(l), inputs[l], batch, T, inputs[l + 1], TransformerBlock.Forward.PLAIN);
        }
        // Final norm and LM head with the loss, chunk by chunk.
        float[] xL = inputs[L];
        float[] r = new float[n];
        float[] hn = new float[n * d];
        RmsNorm.forward(xL, n, d, model.finalNorm(), c.rmsNormEps(), hn, r);
        int v = c.vocabSize();
        long predictions = (long) batch * (T - 1);
        boolean tiedHead = model.headTied();
        String headName = tiedHead ? "model.embed_tokens.weight" : "lm_head.weight";
        boolean wantHead = obs != null && obs.wantsWeightGradient(headName);
        float[] dHead = wantHead ? new float[v * d] : null;
        float[] dhn = new float[n * d];
        double loss = 0;
        for (int r0 = 0; r0 < n; r0 += LOGIT_ROWS) {
            int rows = Math.min(LOGIT_ROWS, n - r0);
            float[] h = Arrays.copyOfRange(hn, r0 * d, (r0 + rows) * d);
            float[] logits = new float[rows * v];
            model.lmHead().forward(h, rows, logits);
            for (int i = 0; i < rows; i++) {
                int t = r0 + i;
                int o = i * v;
                if (t % T == T - 1) { // last position of a sequence predicts nothing
                    Arrays.fill(logits, o, o + v, 0f);
                    continue;
                }
                double lse = Perplexity.logSumExp(logits, o, v);
                int target = tokens[t + 1];
                loss += lse - logits[o + target];
                // ∂ℓ/∂logits = (softmax − onehot) / predictions
                for (int j = 0; j < v; j++) logits[o + j] = (float) (Math.exp(logits[o + j] - lse) / predictions);
                logits[o + target] -= (float) (1.0 / predictions);
            }
            if (obs == null) continue;
            float[] dh = new float[rows * d];
            model.lmHead().backwardInput(logits, rows, dh);
            System.arraycopy(dh, 0, dhn, r0 * d, rows * d);
            if (wantHead) Gemm.weightGrad(logits, h, rows, v, d, dHead, true);
        }
        if (obs == null) {
            return loss / predictions;
        }
        float[] dx = new float[n * d];
        float[] dNorm = obs.wantsWeightGradient("model.norm.weight") ? new float[d] : null;
        RmsNorm.backward(xL, n, d, model.finalNorm(), r, dhn, dx, dNorm);
        if (dNorm != null) obs.weightGradient("model.norm.weight", dNorm);
        if (wantHead && !tiedHead) obs.weightGradient(headName, dHead);
        for (int l = L - 1; l >= 0; l--) {
            TransformerBlock.Saved s = new TransformerBlock.Saved();
            block.forward(model.layer(l), inputs[l], batch, T, new float[n * d], TransformerBlock.Forward.PLAIN.withSave(s));
            inputs[l + 1] = null;
            float[] dPrev = new float[n * d];
            block.backward(model.layer(l), s, dx, batch, T, dPrev, obs);
            dx = dPrev;
        }
        if (obs.wantsWeightGradient("model.embed_tokens.weight")) {
            float[] dE = tiedHead ? dHead : new float[v * d];
            for (int t = 0; t < n; t++) {
                int o = tokens[t] * d;
                for (int i = 0; i < d; i++) dE[o + i] += dx[t * d + i];
            }
            obs.weightGradient("model.embed_tokens.weight", dE);
        }
        return loss / predictions;
    }

    /** The loss alone (a forward pass), for finite differences and ΔF checks. */
    public double loss(int[] tokens, int batch) {
        return run(tokens, batch, null);
    }
}
