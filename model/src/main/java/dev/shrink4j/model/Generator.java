package dev.shrink4j.model;

import dev.shrink4j.tensors.ShrinkException;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Autoregressive decoding with a KV cache. The prompt runs as one batch (prefill): every block sees
 * all prompt rows at once — the linears as one GEMM / format matmul, causal attention over the
 * batch — and its rotated keys and values fill the per-layer caches (positions × kv·hd) in one go.
 * Each new token then runs every block once on one row, its keys and values appended.
 */
public final class Generator {
    private final LlamaModel model;
    private final ModelConfig c;
    private final boolean tokenByToken;

    public Generator(LlamaModel model) {
        this(model, false);
    }

    /**
     * {@code tokenByToken}: feed the prompt one token at a time through the decoding step, the
     * reference that batched prefill is tested against.
     */
    Generator(LlamaModel model, boolean tokenByToken) {
        this.model = model;
        this.c = model.config();
        this.tokenByToken = tokenByToken;
    }

    /**
     * Continues {@code prompt} (non-empty, usually starting with BOS) by up to {@code maxTokens}
     * tokens, stopping at EOS or the context length. {@code onToken} sees each new token as it is
     * chosen. Returns the new tokens (EOS excluded).
     */
    public int[] generate(int[] prompt, int maxTokens, Sampler sampler, IntConsumer onToken) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("empty prompt: start with at least BOS");
        }
        if (prompt.length >= c.maxPositions()) {
            throw new ShrinkException("prompt of " + prompt.length + " tokens fills the context of " + c.maxPositions());
        }
        int capacity = Math.min(c.maxPositions(), prompt.length + maxTokens);
        float[][] kc = cache(capacity);
        float[][] vc = cache(capacity);
        int[] out = new int[maxTokens];
        int produced = 0;
        float[] logits = runPrompt(prompt, kc, vc);
        for (int pos = prompt.length; produced < maxTokens; pos++) {
            int next = sampler.next(logits);
            if (c.isEos(next)) break;
            out[produced++] = next;
            if (onToken != null) onToken.accept(next);
            if (pos >= capacity) break;
            logits = step(next, pos, kc, vc, true);
        }
        return Arrays.copyOf(out, produced);
    }

    /** Logits (vocab) of the prompt's last position, run into fresh caches the way {@link #generate} does. */
    float[] promptLogits(int[] prompt) {
        return runPrompt(prompt, cache(prompt.length), cache(prompt.length));
    }

    /** Per-layer caches of {@code capacity} positions × kv·hd (null for blocks without attention). */
    private float[][] cache(int capacity) {
        float[][] kv = new float[c.numLayers()][];
        for (int l = 0; l < c.numLayers(); l++) {
            if (c.hasAttention(l)) kv[l] = new float[capacity * c.kvDim()];
        }
        return kv;
    }

    private float[] runPrompt(int[] prompt, float[][] kc, float[][] vc) {
        if (!tokenByToken) return prefill(prompt, kc, vc);
        float[] logits = null;
        for (int pos = 0; pos < prompt.length; pos++) {
            logits = step(prompt[pos], pos, kc, vc, pos == prompt.length - 1);
        }
        return logits;
    }

    /**
     * Runs the whole prompt (T tokens at positions 0..T−1) as one sequence through every block,
     * copying each block's keys and values into rows 0..T−1 of its caches; returns the logits of
     * the last position (vocab).
     */
    float[] prefill(int[] prompt, float[][] kc, float[][] vc) {
        int T = prompt.length;
        int kvd = c.kvDim();
        float[] x = model.embed(prompt); // (T, hidden)
        float[] y = new float[x.length];
        TransformerBlock block = model.block();
        TransformerBlock.Forward opts = TransformerBlock.Forward.PLAIN.withKv((layer, k, v, n) -> {
            System.arraycopy(k, 0, kc[layer], 0, n * kvd);
            System.arraycopy(v, 0, vc[layer], 0, n * kvd);
        });
        for (int l = 0; l < c.numLayers(); l++) {
            block.forward(model.layer(l), x, 1, T, y, opts);
            float[] t = x;
            x = y;
            y = t;
        }
        return model.logits(x, T - 1, T);
    }

    /** Runs token {@code token} at position {@code pos}; returns logits when {@code wantLogits}. */
    private float[] step(int token, int pos, float[][] kc, float[][] vc, boolean wantLogits) {
        int d = c.hiddenSize();
        float[] x = model.embed(new int[] {token});
        TransformerBlock block = model.block();
        for (int l = 0; l < c.numLayers(); l++) {
            Layer layer = model.layer(l);
            if (layer.hasAttention()) {
                float[] h = new float[d];
                RmsNorm.forward(x, 1, d, layer.attnNorm(), c.rmsNormEps(), h, null);
                float[] q = new float[c.qDim()];
                float[] k = new float[c.kvDim()];
                float[] v = new float[c.kvDim()];
                layer.linear(Proj.Q).forward(h, 1, q);
                layer.linear(Proj.K).forward(h, 1, k);
                layer.linear(Proj.V).forward(h, 1, v);
                block.rope().apply(q, 1, c.numHeads(), 1, pos, false);
                block.rope().apply(k, 1, c.numKvHeads(), 1, pos, false);
                System.arraycopy(k, 0, kc[l], pos * c.kvDim(), c.kvDim());
                System.arraycopy(v, 0, vc[l], pos * c.kvDim(), c.kvDim());
                float[] a = new float[c.qDim()];
                block.attention().decode(q, kc[l], vc[l], pos, a);
                float[] o = new float[d];
                layer.linear(Proj.O).forward(a, 1, o);
                for (int i = 0; i < d; i++) x[i] += o[i];
            }
            int f = layer.intermediateSize();
            float[] h = new float[d];
            RmsNorm.forward(x, 1, d, layer.mlpNorm(), c.rmsNormEps(), h, null);
            float[] g = new float[f];
            float[] u = new float[f];
            layer.linear(Proj.GATE).forward(h, 1, g);
            layer.linear(Proj.UP).forward(h, 1, u);
            for (int i = 0; i < f; i++) g[i] = TransformerBlock.silu(g[i]) * u[i];
            float[] dn = new float[d];
            layer.linear(Proj.DOWN).forward(g, 1, dn);
            for (int i = 0; i < d; i++) x[i] += dn[i];
        }
        return wantLogits ? model.logits(x, 0, 1) : null;
    }
}
