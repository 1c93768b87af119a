package dev.shrink4j.train;

import dev.shrink4j.model.GradientObserver;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.model.Proj;
import dev.shrink4j.model.WeightSource;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The trainable state of a Llama model: F32 master arrays by HF tensor name, and a {@link LlamaModel}
 * that computes with those very arrays (dense weights wrapped as heap tensors, factored linears
 * holding the arrays), so an optimizer step in place is the next forward pass's weights. Only the
 * norm gains are copies inside the model; {@link #syncNorms} refreshes them after a step.
 *
 * <p>Factored linears ({@link Parameterization#LOWRANK}, {@link Parameterization#LOST}) are named
 * in the config's {@code shrink4j.tensors} block with the tensors {@code .lr_a} (r, d_in),
 * {@code .lr_b} (d_out, r) and, for LOST, {@code .cols} (c, int ids) and {@code .col_values} (d_out, c),
 * so a checkpoint of the state is also a checkpoint {@code eval} reads.
 */
public final class TrainableModel {
    /** Format name of a trained LOST linear (σ = SiLU, blend γ) in {@code shrink4j.tensors}. */
    public static final String LOST_FORMAT = "lost_silu";
    /** Format name of plain factors (shared with {@code shrink4j lowrank}). */
    public static final String LOW_RANK_FORMAT = "low_rank";

    private final Map<String, Object> configJson;
    private final ModelConfig config;
    private final Map<String, float[]> params; // name → master values, checkpoint order
    private final Map<String, long[]> shapes;
    private final Map<String, int[]> columns; // "<module>.cols" → ids (fixed, not trained)
    private final Map<String, FactoredLinear> factored = new LinkedHashMap<>(); // module → layer
    private final LlamaModel model;

    /**
     * @param configJson config.json as a map (with {@code shrink4j.tensors} for factored linears)
     * @param params     every trainable tensor by name (held, not copied)
     * @param shapes     their shapes
     * @param columns    LOST column ids by {@code <module>.cols}
     */
    public TrainableModel(Map<String, Object> configJson, Map<String, float[]> params, Map<String, long[]> shapes, Map<String, int[]> columns) {
        this.configJson = configJson;
        this.config = ModelConfig.parse(configJson, "the training config");
        this.params = params;
        this.shapes = shapes;
        this.columns = columns;
        Map<String, Tensor> views = new LinkedHashMap<>();
        params.forEach((name, values) -> views.put(name, Tensor.wrap(DType.F32, Shape.of(shapes.get(name)), MemorySegment.ofArray(values))));
        this.model = LlamaModel.of(config, WeightSource.of(views, "the trained model"), this::factoredLinear);
    }

    private Linear factoredLinear(String module, Map<String, Object> format, WeightSource source, int dOut, int dIn) {
        String kind = String.valueOf(format.get("format"));
        boolean lost = kind.equals(LOST_FORMAT);
        if (!lost && !kind.equals(LOW_RANK_FORMAT)) {
            throw new ShrinkException("module " + module + ": format " + kind + " cannot be trained (trainable: dense, " + LOW_RANK_FORMAT + ", " + LOST_FORMAT + ")");
        }
        float[] a = require(module + ".lr_a");
        float[] b = require(module + ".lr_b");
        int rank = Math.toIntExact(shapes.get(module + ".lr_a")[0]);
        int[] cols = lost ? columns.get(module + ".cols") : new int[0];
        if (cols == null) throw new ShrinkException("module " + module + ": missing tensor " + module + ".cols");
        float[] ws = lost ? require(module + ".col_values") : null;
        double gamma = lost ? ((Number) format.getOrDefault("gamma", 0.5)).doubleValue() : 1;
        FactoredLinear f = new FactoredLinear(dOut, dIn, rank, a, b, cols, ws, gamma, lost);
        factored.put(module, f);
        return f;
    }

    private float[] require(String name) {
        float[] v = params.get(name);
        if (v == null) throw new ShrinkException("tensor " + name + " missing from the trained model");
        return v;
    }

    public LlamaModel model() {
        return model;
    }

    public ModelConfig config() {
        return config;
    }

    public Map<String, Object> configJson() {
        return configJson;
    }

    /** Master values by name (live arrays). */
    public Map<String, float[]> parameters() {
        return Collections.unmodifiableMap(params);
    }

    public long[] shape(String name) {
        return shapes.get(name);
    }

    public Map<String, int[]> columnIds() {
        return Collections.unmodifiableMap(columns);
    }

    /** Weight decay applies to matrices (linears, factors, W_s, embeddings), not to norm gains. */
    public boolean decays(String name) {
        return shapes.get(name).length == 2;
    }

    /** Trainable values in total. */
    public long parameterCount() {
        return params.values().stream().mapToLong(v -> v.length).sum();
    }

    /** Trainable values of the block linears (dense W or factors + W_s). */
    public long linearParameterCount() {
        long n = 0;
        for (Map.Entry<String, float[]> e : params.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("model.layers.") && shapes.get(k).length == 2) n += e.getValue().length;
        }
        return n;
    }

    /** Copies the norm gains from the master arrays into the model (after an optimizer step). */
    public void syncNorms() {
        for (int l = 0; l < model.numLayers(); l++) {
            Layer layer = model.layer(l);
            String p = "model.layers." + l + ".";
            if (layer.hasAttention()) System.arraycopy(params.get(p + "input_layernorm.weight"), 0, layer.attnNorm(), 0, layer.attnNorm().length);
            System.arraycopy(params.get(p + "post_attention_layernorm.weight"), 0, layer.mlpNorm(), 0, layer.mlpNorm().length);
        }
        float[] fn = params.get("model.norm.weight");
        System.arraycopy(fn, 0, model.finalNorm(), 0, fn.length);
    }

    /**
     * A gradient observer that fills {@code grads} (name → ∂ℓ/∂θ, same layout as the master) for
     * every trainable tensor: dense ones through the backward pass's weight gradients, factored ones
     * from the output gradient and input of their linear.
     */
    public GradientObserver gradients(Map<String, float[]> grads) {
        return new GradientObserver() {
            @Override
            public boolean wantsOutputGradient(int layer, Proj proj) {
                return factored.containsKey(proj.module(layer));
            }

            @Override
            public void outputGradient(int layer, Proj proj, float[] x, float[] g, int n) {
                String m = proj.module(layer);
                FactoredLinear f = factored.get(m);
                float[] dA = new float[params.get(m + ".lr_a").length];
                float[] dB = new float[params.get(m + ".lr_b").length];
                float[] dWs = f.columns() > 0 ? new float[params.get(m + ".col_values").length] : null;
                f.parameterGradients(x, g, n, dA, dB, dWs);
                grads.put(m + ".lr_a", dA);
                grads.put(m + ".lr_b", dB);
                if (dWs != null) grads.put(m + ".col_values", dWs);
            }

            @Override
            public boolean wantsWeightGradient(String name) {
                return params.containsKey(name);
            }

            @Override
            public void weightGradient(String name, float[] grad) {
                grads.put(name, grad);
            }
        };
    }

    /** Names of the trainable tensors, in checkpoint order. */
    public List<String> names() {
        return List.copyOf(params.keySet());
    }
}
