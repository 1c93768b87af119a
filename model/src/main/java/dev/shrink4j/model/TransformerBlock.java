package dev.shrink4j.model;

/**
 * Forward and backward of one Llama decoder block over {@code batch} sequences of {@code seqLen}
 * tokens (n = batch·seqLen rows):
 * <pre>
 *   h1 = RMSNorm(x)·w₁;  q,k,v = h1·W{q,k,v}ᵀ (+b);  rotate q,k;  a = attention(q,k,v)
 *   x2 = x + a·W_oᵀ;     h2 = RMSNorm(x2)·w₂;  m = silu(h2·W_gᵀ) ⊙ (h2·W_uᵀ);  out = x2 + m·W_dᵀ
 * </pre>
 * Blocks without attention skip the first line (out = x + MLP(x)).
 */
final class TransformerBlock {
    private final ModelConfig config;
    private final Rope rope;
    private final Attention attention;

    TransformerBlock(ModelConfig config) {
        this.config = config;
        this.rope = new Rope(config);
        this.attention = new Attention(config);
    }

    Rope rope() {
        return rope;
    }

    Attention attention() {
        return attention;
    }

    /** What the backward pass needs from the forward pass of one block. */
    static final class Saved {
        float[] x, r1, h1, q, k, v, a, x2, r2, h2, g, u, m; // all (n, width) except r1, r2 (n)
    }

    /**
     * What one forward pass records besides its output, and where it stops; {@link #PLAIN} records
     * nothing. Built with the withers, e.g. {@code Forward.PLAIN.withObserver(o).stoppingAfter(Group.O)}.
     *
     * @param save      filled with intermediates when non-null (for {@link #backward})
     * @param observer  sees each group's input, or null
     * @param stopAfter when non-null, return right after observing this group's input (out untouched)
     * @param kv        sees the block's rotated keys and values (batched prefill fills a KV cache), or null
     */
    record Forward(Saved save, LinearObserver observer, Group stopAfter, KvSink kv) {
        static final Forward PLAIN = new Forward(null, null, null, null);

        Forward withSave(Saved s) {
            return new Forward(s, observer, stopAfter, kv);
        }

        Forward withObserver(LinearObserver o) {
            return new Forward(save, o, stopAfter, kv);
        }

        Forward stoppingAfter(Group g) {
            return new Forward(save, observer, g, kv);
        }

        Forward withKv(KvSink sink) {
            return new Forward(save, observer, stopAfter, sink);
        }
    }

    /** Receives one block's keys (after RoPE) and values, k and v (n, kv·hd), as the forward pass makes them. */
    @FunctionalInterface
    interface KvSink {
        void accept(int layer, float[] k, float[] v, int n);
    }

    /**
     * Runs the block. Writes {@code out} (n, hidden) unless {@code opts} stops it early.
     *
     * @param x   (n, hidden), read only
     * @param out (n, hidden); Modified (may be null when {@code opts} stops before the output)
     */
    void forward(Layer layer, float[] x, int batch, int seqLen, float[] out, Forward opts) {
        Saved save = opts.save();
        LinearObserver observer = opts.observer();
        Group stopAfter = opts.stopAfter();
        int n = batch * seqLen;
        int d = config.hiddenSize();
        int li = layer.index();
        float[] x2 = x;
        if (layer.hasAttention()) {
            float[] r1 = new float[n];
            float[] h1 = new float[n * d];
            RmsNorm.forward(x, n, d, layer.attnNorm(), config.rmsNormEps(), h1, r1);
            if (observer != null) observer.input(li, Group.QKV, h1, n, d);
            if (stopAfter == Group.QKV) return;
            float[] q = new float[n * config.qDim()];
            float[] k = new float[n * config.kvDim()];
            float[] v = new float[n * config.kvDim()];
            layer.linear(Proj.Q).forward(h1, n, q);
            layer.linear(Proj.K).forward(h1, n, k);
            layer.linear(Proj.V).forward(h1, n, v);
            rope.apply(q, n, config.numHeads(), seqLen, 0, false);
            rope.apply(k, n, config.numKvHeads(), seqLen, 0, false);
            if (opts.kv() != null) opts.kv().accept(li, k, v, n);
            float[] a = new float[n * config.qDim()];
            attention.forward(q, k, v, batch, seqLen, a);
            if (observer != null) observer.input(li, Group.O, a, n, config.qDim());
            if (stopAfter == Group.O) return;
            x2 = new float[n * d];
            layer.linear(Proj.O).forward(a, n, x2);
            for (int i = 0; i < x2.length; i++) x2[i] += x[i];
            if (save != null) {
                save.r1 = r1;
                save.h1 = h1;
                save.q = q;
                save.k = k;
                save.v = v;
                save.a = a;
            }
        } else if (stopAfter == Group.QKV || stopAfter == Group.O) {
            return;
        }
        int f = layer.intermediateSize();
        float[] r2 = new float[n];
        float[] h2 = new float[n * d];
        RmsNorm.forward(x2, n, d, layer.mlpNorm(), config.rmsNormEps(), h2, r2);
        if (observer != null) observer.input(li, Group.GATE_UP, h2, n, d);
        if (stopAfter == Group.GATE_UP) return;
        float[] g = new float[n * f];
        float[] u = new float[n * f];
        layer.linear(Proj.GATE).forward(h2, n, g);
        layer.linear(Proj.UP).forward(h2, n, u);
        float[] m = new float[n * f];
        for (int i = 0; i < m.length; i++) m[i] = silu(g[i]) * u[i];
        if (observer != null) observer.input(li, Group.DOWN, m, n, f);
        if (stopAfter == Group.DOWN) return;
        layer.linear(Proj.DOWN).forward(m, n, out);
        for (int i = 0; i < n * d; i++) out[i] += x2[i];
        if (save != null) {
            save.x = x;
            save.x2 = x2;
            save.r2 = r2;
            save.h2 = h2;
            save.g = g;
            save.u = u;
            save.m = m;
        }
    }

    /**
     * Backward through the block: given dOut = ∂ℓ/∂out (n, hidden), writes dx = ∂ℓ/∂x (n, hidden) and
     * reports output and weight gradients to {@code obs}.
     */
    void backward(Layer layer, Saved s, float[] dOut, int batch, int seqLen, float[] dx, GradientObserver obs) {
        int n = batch * seqLen;
        int d = config.hiddenSize();
        int f = layer.intermediateSize();
        int li = layer.index();
        // MLP: out = x2 + down(m)
        linearBackward(layer, Proj.DOWN, s.m, dOut, n, null, obs);
        float[] dm = new float[n * f];
        layer.linear(Proj.DOWN).backwardInput(s.m, dOut, n, dm);
        float[] dg = new float[n * f];
        float[] du = new float[n * f];
        for (int i = 0; i < dm.length; i++) {
            float sg = sigmoid(s.g[i]);
            float silu = s.g[i] * sg;
            du[i] = dm[i] * silu;
            dg[i] = dm[i] * s.u[i] * sg * (1 + s.g[i] * (1 - sg));
        }
        dm = null;
        float[] dh2 = new float[n * d];
        linearBackward(layer, Proj.GATE, s.h2, dg, n, dh2, obs);
        linearBackward(layer, Proj.UP, s.h2, du, n, dh2, obs);
        float[] dx2 = dOut.clone();
        float[] dw2 = wantsNorm(obs, li, "post_attention_layernorm") ? new float[d] : null;
        RmsNorm.backward(s.x2, n, d, layer.mlpNorm(), s.r2, dh2, dx2, dw2);
        if (dw2 != null) obs.weightGradient(normName(li, "post_attention_layernorm"), dw2);
        if (!layer.hasAttention()) {
            System.arraycopy(dx2, 0, dx, 0, n * d);
            return;
        }
        // Attention: x2 = x + o(a)
        linearBackward(layer, Proj.O, s.a, dx2, n, null, obs);
        float[] da = new float[n * config.qDim()];
        layer.linear(Proj.O).backwardInput(s.a, dx2, n, da);
        float[] dq = new float[n * config.qDim()];
        float[] dk = new float[n * config.kvDim()];
        float[] dv = new float[n * config.kvDim()];
        attention.backward(s.q, s.k, s.v, da, batch, seqLen, dq, dk, dv);
        rope.apply(dq, n, config.numHeads(), seqLen, 0, true);
        rope.apply(dk, n, config.numKvHeads(), seqLen, 0, true);
        float[] dh1 = new float[n * d];
        linearBackward(layer, Proj.Q, s.h1, dq, n, dh1, obs);
        linearBackward(layer, Proj.K, s.h1, dk, n, dh1, obs);
        linearBackward(layer, Proj.V, s.h1, dv, n, dh1, obs);
        System.arraycopy(dx2, 0, dx, 0, n * d);
        float[] dw1 = wantsNorm(obs, li, "input_layernorm") ? new float[d] : null;
        RmsNorm.backward(s.x, n, d, layer.attnNorm(), s.r1, dh1, dx, dw1);
        if (dw1 != null) obs.weightGradient(normName(li, "input_layernorm"), dw1);
    }

    /** Reports G and dW of one linear; adds dy·W into {@code dIn} when non-null. */
    private void linearBackward(Layer layer, Proj p, float[] x, float[] dy, int n, float[] dIn, GradientObserver obs) {
        int li = layer.index();
        Linear lin = layer.linear(p);
        if (obs != null && obs.wantsOutputGradient(li, p)) {
            obs.outputGradient(li, p, x, dy, n);
        }
        String name = p.weightName(li);
        if (obs != null && obs.wantsWeightGradient(name)) {
            float[] dw = new float[lin.outFeatures() * lin.inFeatures()];
            Gemm.weightGrad(dy, x, n, lin.outFeatures(), lin.inFeatures(), dw, false);
            obs.weightGradient(name, dw);
        }
        if (lin.bias() != null && obs != null && obs.wantsWeightGradient(p.module(li) + ".bias")) {
            float[] db = new float[lin.outFeatures()];
            for (int t = 0; t < n; t++) {
                for (int j = 0; j < db.length; j++) db[j] += dy[t * db.length + j];
            }
            obs.weightGradient(p.module(li) + ".bias", db);
        }
        if (dIn != null) lin.backwardInput(x, dy, n, dIn);
    }

    private static boolean wantsNorm(GradientObserver obs, int layer, String norm) {
        return obs != null && obs.wantsWeightGradient(normName(layer, norm));
    }

    private static String normName(int layer, String norm) {
        return "model.layers." + layer + "." + norm + ".weight";
    }

    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    static float silu(float x) {
        return x * sigmoid(x);
    }
}
