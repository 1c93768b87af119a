package dev.shrink4j.quantize;

import dev.shrink4j.model.Backprop;
import dev.shrink4j.model.GradientObserver;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What the gradient pass gathers on the dense model, one forward + backward per calibration sequence
 * (batch 1): squared per-sequence weight gradients (Fisher diagonals, docs/methods/squeezellm.md §1)
 * by weight name, and per-token group-averaged squared output gradients (saliencies (tokens, g), docs/methods/guidedquant-lnq.md §3)
 * with the inputs' per-token squared norms by module name.
 *
 * @param fisher     weight name → (d_out·d_in) Σ_s g_s²
 * @param saliency   module name → (tokens, g)
 * @param inputNorms module name → (tokens) ‖x_t‖², to check the Hessian pass sees the same tokens (docs/methods/guidedquant-lnq.md §3 step 3)
 * @param tokens     calibration tokens in the pass
 */
record GradientStatistics(Map<String, float[]> fisher, Map<String, float[]> saliency, Map<String, float[]> inputNorms, int tokens) {
    /** For methods that need no gradients. */
    static final GradientStatistics NONE = new GradientStatistics(Map.of(), Map.of(), Map.of(), 1);

    /** Runs the pass over {@code sequences} for what {@code options.method()} needs. */
    static GradientStatistics gather(LlamaModel model, int[][] sequences, QuantizeOptions options, Quantizer.Listener listener) {
        Map<String, float[]> fisher = new HashMap<>();
        Map<String, float[]> saliency = new HashMap<>();
        Map<String, Integer> filled = new HashMap<>();
        Map<String, float[]> inputNorms = new HashMap<>();
        int tokens = sequences.length * sequences[0].length;
        boolean guided = options.method().guided();
        boolean wantFisher = wantsFisher(options.method());
        Set<String> targets = new HashSet<>();
        for (int l = 0; l < model.numLayers(); l++) {
            for (Proj p : Proj.values()) {
                if (model.layer(l).linear(p) != null) targets.add(p.weightName(l));
            }
        }
        GradientObserver obs = new GradientObserver() {
            @Override
            public boolean wantsOutputGradient(int layer, Proj proj) {
                return guided;
            }

            @Override
            public void outputGradient(int layer, Proj proj, float[] x, float[] g, int n) {
                int dOut = g.length / n;
                int groups = options.guidedGroupsFor(dOut);
                String module = proj.module(layer);
                float[] s = saliency.computeIfAbsent(module, k -> new float[tokens * groups]);
                int at = filled.merge(module, n, Integer::sum) - n;
                System.arraycopy(GuidedHessians.saliency(g, n, dOut, groups), 0, s, at * groups, n * groups);
                float[] norms = inputNorms.computeIfAbsent(module, k -> new float[tokens]);
                System.arraycopy(rowNorms(x, n, x.length / n), 0, norms, at, n);
            }

            @Override
            public boolean wantsWeightGradient(String tensorName) {
                return wantFisher && targets.contains(tensorName);
            }

            @Override
            public void weightGradient(String tensorName, float[] grad) {
                // docs/methods/squeezellm.md §1: square per sequence (batch 1), then sum.
                float[] f = fisher.computeIfAbsent(tensorName, k -> new float[grad.length]);
                for (int i = 0; i < grad.length; i++) f[i] += grad[i] * grad[i];
            }
        };
        listener.stage("gradients (forward + backward per sequence)", sequences.length);
        Backprop backprop = new Backprop(model);
        for (int s = 0; s < sequences.length; s++) {
            backprop.run(sequences[s], 1, obs);
            listener.step(s + 1, "sequence");
        }
        return new GradientStatistics(fisher, saliency, inputNorms, tokens);
    }

    /** Every gradient method but guided GPTQ starts from SqueezeLLM, which weighs by the Fisher diagonal (docs/methods/guidedquant-lnq.md §5.1). */
    static boolean wantsFisher(QuantMethod method) {
        return method != QuantMethod.GUIDED_GPTQ;
    }

    /** ‖x_t‖² per token of x (n, d_in). */
    static float[] rowNorms(float[] x, int n, int dIn) {
        float[] r = new float[n];
        for (int t = 0; t < n; t++) {
            double s = 0;
            for (int i = 0; i < dIn; i++) s += (double) x[t * dIn + i] * x[t * dIn + i];
            r[t] = (float) s;
        }
        return r;
    }
}
