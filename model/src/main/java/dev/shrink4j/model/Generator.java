package dev.shrink4j.model;

import dev.shrink4j.tensors.ShrinkException;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Autoregressive decoding with a KV cache: each new token runs every block once on one row, its
 * keys and values appended to per-layer caches (positions × kv·hd).
 */
public final class Generator {
    private final LlamaModel model;
    private final ModelConfig c;

    public Generator(LlamaModel model) {
        this.model = model;
        this.c = model.config();
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
        float[][] kc = new float[c.numLayers()][];
        float[][] vc = new float[c.numLayers()][];
        for (int l = 0; l < c.numLayers(); l++) {
            if (c.hasAttention(l)) {
                kc[l] = new float[capacity * c.kvDim()];
                vc[l] = new float[capacity * c.kvDim()];
            }
        }
        int[] out = new int[maxTokens];
        int produced = 0;
        float[] logits = null;
        for (int pos = 0; pos < prompt.length; pos++) {
            logits = step(prompt[pos], pos, kc, vc, pos == prompt.length - 1);
        }
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
