package dev.shrink4j.quantize;

import dev.shrink4j.model.Backprop;
import dev.shrink4j.model.GradientObserver;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import java.lang.foreign.Arena;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The calibration loss along the quantization path of a model (docs/methods/pqi-requant.md §1): every
 * decoder linear at W(t) at once ({@link PathLinear}), the embeddings, norms and LM head of the original.
 * F is the mean over the sequences of each one's token-mean cross-entropy (all the same length, so the
 * token mean); ḡ(t) = (1/n)·Σ_s ∇ℓ_s, one forward + backward per sequence (batch 1), block by block
 * with recomputation as the gradient pass of the quantizers does.
 */
final class ModelPath implements Pqi.LossPath {
    private final LlamaModel original;
    private final LlamaModel quantized;
    private final LlamaModel path; // over the original's weights, its linears replaced per t
    private final int[][] sequences;
    private final Quantizer.Listener listener;
    private final Map<String, Long> sizes = new LinkedHashMap<>(); // weight name → d_out·d_in
    private final Map<String, Linear[]> ends = new LinkedHashMap<>(); // weight name → {W, W̃}
    private int passes;

    ModelPath(LlamaModel original, LlamaModel quantized, int[][] sequences, Quantizer.Listener listener) {
        Pqi.checkCompatible(original, quantized);
        this.original = original;
        this.quantized = quantized;
        this.sequences = sequences;
        this.listener = listener;
        this.path = LlamaModel.of(original.config(), original.weights());
        for (int l = 0; l < original.numLayers(); l++) {
            for (Proj p : Proj.values()) {
                Linear a = original.layer(l).linear(p);
                if (a == null) continue;
                sizes.put(p.weightName(l), (long) a.outFeatures() * a.inFeatures());
                ends.put(p.weightName(l), new Linear[] {a, quantized.layer(l).linear(p)});
            }
        }
    }

    @Override
    public Map<String, Long> sizes() {
        return sizes;
    }

    @Override
    public double loss(double t, BiConsumer<String, float[]> gradient) {
        setPath(t);
        float inv = 1f / sequences.length;
        GradientObserver obs = gradient == null ? null : new GradientObserver() {
            @Override
            public boolean wantsWeightGradient(String tensorName) {
                return sizes.containsKey(tensorName);
            }

            @Override
            public void weightGradient(String tensorName, float[] grad) {
                for (int i = 0; i < grad.length; i++) grad[i] *= inv;
                gradient.accept(tensorName, grad);
            }
        };
        listener.stage(String.format(java.util.Locale.ROOT, "PQI path t = %.4f: %d sequences (%s)", t, sequences.length,
                gradient == null ? "forward" : "forward + backward"), sequences.length);
        Backprop backprop = new Backprop(path);
        double loss = 0;
        for (int s = 0; s < sequences.length; s++) {
            loss += backprop.run(sequences[s], 1, obs);
            listener.step(s + 1, "sequence");
        }
        passes++;
        return loss / sequences.length;
    }

    @Override
    public float[] delta(String name) {
        Linear[] e = ends.get(name);
        try (Arena a = Arena.ofConfined()) {
            float[] w = e[0].weight(a).toFloatArray();
            float[] q = e[1].weight(a).toFloatArray();
            for (int i = 0; i < w.length; i++) q[i] -= w[i];
            return q;
        }
    }

    /** Passes over the calibration set so far (gradient or loss only). */
    int passes() {
        return passes;
    }

    private void setPath(double t) {
        for (int l = 0; l < original.numLayers(); l++) {
            Layer o = original.layer(l);
            Map<Proj, Linear> m = new EnumMap<>(Proj.class);
            for (Map.Entry<Proj, Linear> e : o.linears().entrySet()) {
                m.put(e.getKey(), PathLinear.at(e.getValue(), quantized.layer(l).linear(e.getKey()), t));
            }
            path.setLayer(new Layer(l, o.attnNorm(), m, o.mlpNorm()));
        }
    }
}
