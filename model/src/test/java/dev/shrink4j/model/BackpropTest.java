package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Finite-difference check of every gradient: for each parameter tensor P, the directional
 * derivative (ℓ(P + εD) − ℓ(P − εD)) / 2ε along a seeded random unit direction D must match ⟨∂ℓ/∂P, D⟩.
 */
class BackpropTest {
    static final double EPS = 1e-2;
    /** Central differences in an F32 forward: O(ε²) truncation plus ~1e-7·ℓ/ε rounding. */
    static final double FD_REL_TOL = 2e-2;
    static final double FD_ABS_TOL = 5e-5;

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2", "llama-tied-no-attention-1"})
    void directionalDerivativesMatchFiniteDifferences(String variant) {
        Map<String, Object> json = TinyModels.config(variant.startsWith("qwen2") ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        if (variant.contains("tied")) {
            json.put("tie_word_embeddings", true);
            json.put("shrink4j", Map.of("attention_removed", List.of(1)));
        }
        ModelConfig c = ModelConfig.parse(json, "tiny");
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.of(c, Synthetic.inMemory(c, DType.F32, 0.3, 7, arena));
            int batch = 2;
            int[] tokens = TinyModels.tokens(batch * 9, c.vocabSize(), 11);
            Map<String, float[]> grads = new HashMap<>();
            Map<String, float[]> outGrads = new HashMap<>();
            Backprop bp = new Backprop(model);
            double loss = bp.run(tokens, batch, new GradientObserver() {
                @Override
                public boolean wantsWeightGradient(String name) {
                    return true;
                }

                @Override
                public void weightGradient(String name, float[] g) {
                    grads.put(name, g.clone());
                }

                @Override
                public boolean wantsOutputGradient(int layer, Proj p) {
                    return true;
                }

                @Override
                public void outputGradient(int layer, Proj p, float[] x, float[] g, int n) {
                    // ∂ℓ/∂W = Gᵀ X (docs/methods/README.md §2), checked against the weight gradient below.
                    float[] gw = new float[g.length / n * (x.length / n)];
                    Gemm.weightGrad(g, x, n, g.length / n, x.length / n, gw, false);
                    outGrads.put(p.weightName(layer), gw);
                }
            });
            assertEquals(bp.loss(tokens, batch), loss, 1e-9);
            assertEquals(Synthetic.tensorShapes(c).size(), grads.size(), "one gradient per parameter tensor " + grads.keySet());
            outGrads.forEach((name, gw) -> {
                float[] g = grads.get(name);
                for (int i = 0; i < g.length; i++) assertEquals(g[i], gw[i], 1e-6 + 1e-4 * Math.abs(g[i]), name);
            });
            SplittableRandom rnd = new SplittableRandom(3);
            for (Map.Entry<String, float[]> e : grads.entrySet()) {
                float[] param = params(model, e.getKey());
                Tensor tensor = param == null ? model.weights().tensor(e.getKey()) : null;
                int n = e.getValue().length;
                double[] dir = new double[n];
                double norm = 0;
                for (int i = 0; i < n; i++) {
                    dir[i] = rnd.nextGaussian();
                    norm += dir[i] * dir[i];
                }
                double analytic = 0;
                for (int i = 0; i < n; i++) {
                    dir[i] /= Math.sqrt(norm);
                    analytic += dir[i] * e.getValue()[i];
                }
                shift(param, tensor, dir, EPS);
                double plus = bp.loss(tokens, batch);
                shift(param, tensor, dir, -2 * EPS);
                double minus = bp.loss(tokens, batch);
                shift(param, tensor, dir, EPS);
                double fd = (plus - minus) / (2 * EPS);
                assertTrue(Math.abs(fd - analytic) <= FD_ABS_TOL + FD_REL_TOL * Math.abs(analytic),
                        e.getKey() + ": finite difference " + fd + " vs backward " + analytic);
            }
        }
    }

    /** The heap copy the model reads for norms and biases, or null when it reads the tensor itself. */
    private static float[] params(LlamaModel model, String name) {
        if (name.equals("model.norm.weight")) return model.finalNorm();
        for (int l = 0; l < model.numLayers(); l++) {
            Layer layer = model.layer(l);
            if (name.equals("model.layers." + l + ".input_layernorm.weight")) return layer.attnNorm();
            if (name.equals("model.layers." + l + ".post_attention_layernorm.weight")) return layer.mlpNorm();
            for (Proj p : Proj.values()) {
                if (name.equals(p.module(l) + ".bias")) return layer.linear(p).bias();
            }
        }
        return null;
    }

    private static void shift(float[] param, Tensor t, double[] dir, double step) {
        for (int i = 0; i < dir.length; i++) {
            if (param != null) param[i] += (float) (step * dir[i]);
            else t.setFloat(i, t.getFloat(i) + (float) (step * dir[i]));
        }
    }
}
