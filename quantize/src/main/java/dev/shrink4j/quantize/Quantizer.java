package dev.shrink4j.quantize;

import dev.shrink4j.model.GradientObserver;
import dev.shrink4j.model.Group;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.formats.CompressedWeight;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Quantizes every decoder linear of a model, block by block (METHODS.md §1.2): for each block and each
 * true-sequential group, gather the group input's statistics (H, or GuidedQuant's H̄_k per member),
 * quantize the members, install them; the next block's inputs come from the compressed block (GPTQ,
 * RTN: compressed propagation) or the original one (SqueezeLLM, LNQ, GuidedQuant: dense propagation,
 * §1.2.3). Methods that need gradients first run one full backward pass per calibration sequence
 * (§2.3.1 Fisher diagonal, §3.3 saliencies). Embeddings, norms and the LM head stay as they are.
 *
 * <p>Lifecycle: {@code new Quantizer(options, arena, gradients)} → {@link #run} → the model now runs
 * on the compressed linears and {@link Result#weights()} holds them (their tensors live in the arena).
 */
public final class Quantizer {
    /** Progress and per-layer results as they happen. */
    public interface Listener {
        default void stage(String name, int total) {}

        default void step(int done, String what) {}

        default void layer(LayerReport report) {}
    }

    /**
     * @param objectiveInit  layer objective of the method's starting point (RTN / SqueezeLLM)
     * @param objectiveAfter layer objective of the result (on H, or on the guided H̄_k)
     */
    public record LayerReport(String module, int dOut, int dIn, String format, double objectiveInit, double objectiveAfter,
                              double payloadBitsPerWeight, double totalBitsPerWeight, double seconds, String note) {}

    /** Compressed weights by module name, in model order, and their accounting. */
    public record Result(Map<String, CompressedWeight> weights, List<LayerReport> layers, long parameters,
                         long payloadBytes, long storageBytes) {
        public double payloadBitsPerWeight() {
            return 8.0 * payloadBytes / parameters;
        }

        public double totalBitsPerWeight() {
            return 8.0 * storageBytes / parameters;
        }
    }

    private final QuantizeOptions options;
    private final Arena arena;
    private final GradientPass gradients;

    /**
     * @param arena     owns the compressed tensors; keep it open while the model or the result is used
     * @param gradients the model's backward pass, needed by SqueezeLLM, LNQ and the guided methods
     */
    public Quantizer(QuantizeOptions options, Arena arena, GradientPass gradients) {
        this.options = options;
        this.arena = arena;
        this.gradients = gradients;
        if (options.method().needsGradients() && gradients == null) {
            throw new ShrinkException("--method " + options.method().cliName() + " needs the model's backward pass, which is not available");
        }
    }

    /**
     * @param sequences (n_s, T) calibration token ids, BOS first, all of one length
     */
    public Result run(LlamaModel model, int[][] sequences, Listener listener) {
        int batch = sequences.length;
        int seqLen = sequences[0].length;
        int[] flat = new int[batch * seqLen];
        for (int s = 0; s < batch; s++) System.arraycopy(sequences[s], 0, flat, s * seqLen, seqLen);
        QuantMethod m = options.method();
        Statistics stats = m.needsGradients() ? gradientStatistics(model, sequences, listener) : Statistics.NONE;

        Map<String, CompressedWeight> weights = new LinkedHashMap<>();
        List<LayerReport> reports = new ArrayList<>();
        long params = 0, payload = 0, storage = 0;
        int layers = model.numLayers();
        listener.stage("quantize " + m.cliName() + " " + options.bits() + "-bit", layers);
        float[] x = model.embed(flat); // (n, hidden)
        float[] next = new float[x.length];
        for (int l = 0; l < layers; l++) {
            Layer original = model.layer(l);
            Layer current = original;
            for (Group group : Group.values()) {
                if (group.isAttention() && !original.hasAttention()) continue;
                Map<Proj, double[][]> hessians = groupStatistics(model, l, group, original, x, batch, seqLen, stats);
                for (Proj p : group.members()) {
                    long t0 = System.nanoTime();
                    String module = p.module(l);
                    float[] w;
                    try (Arena tmp = Arena.ofConfined()) {
                        w = current.linear(p).weight(tmp).toFloatArray();
                    }
                    LayerQuantizer.checkFinite(p.weightName(l), w);
                    int dOut = current.linear(p).outFeatures(), dIn = current.linear(p).inFeatures();
                    LayerQuantizer.Outcome out = LayerQuantizer.quantize(options, arena, w, dOut, dIn, hessians.get(p),
                            stats.fisher.get(p.weightName(l)));
                    CompressedWeight cw = out.weight();
                    current = current.with(p, new CompressedLinear(cw));
                    weights.put(module, cw);
                    long n = (long) dOut * dIn;
                    params += n;
                    payload += cw.payloadBytes();
                    storage += cw.storageBytes();
                    LayerReport r = new LayerReport(module, dOut, dIn, cw.format(), out.objectiveInit(), out.objectiveAfter(),
                            8.0 * cw.payloadBytes() / n, 8.0 * cw.storageBytes() / n, (System.nanoTime() - t0) / 1e9, out.note());
                    reports.add(r);
                    listener.layer(r);
                }
                if (!m.densePropagation()) model.setLayer(current); // later groups see the compressed earlier ones
            }
            model.forwardLayer(l, x, batch, seqLen, next, null); // compressed or original block, per §1.2
            model.setLayer(current);
            float[] t = x;
            x = next;
            next = t;
            listener.step(l + 1, "block");
        }
        return new Result(weights, reports, params, payload, storage);
    }

    /** H per member (one shared for plain methods), or GuidedQuant's H̄_k per member (§3.2). */
    private Map<Proj, double[][]> groupStatistics(LlamaModel model, int l, Group group, Layer original, float[] x,
                                                  int batch, int seqLen, Statistics stats) {
        Map<Proj, double[][]> out = new EnumMap<>(Proj.class);
        boolean guided = options.method().guided();
        Map<Proj, GuidedHessians> guidedAcc = new EnumMap<>(Proj.class);
        HessianAccumulator[] plain = new HessianAccumulator[1];
        int[] seen = {0};
        if (options.method().densePropagation()) model.setLayer(original);
        model.groupInput(l, x, batch, seqLen, group, (layer, g, xin, n, dIn) -> {
            if (g != group) return; // the pass also shows the inputs of the groups before this one
            if (guided) {
                for (Proj p : group.members()) {
                    float[] sal = stats.saliency.get(p.module(l));
                    int groups = sal.length / (batch * seqLen);
                    GuidedHessians gh = guidedAcc.computeIfAbsent(p, k -> new GuidedHessians(dIn, groups));
                    float[] rows = java.util.Arrays.copyOfRange(sal, seen[0] * groups, (seen[0] + n) * groups);
                    gh.observe(xin, rows, n);
                }
            } else {
                if (plain[0] == null) plain[0] = new HessianAccumulator(dIn);
                plain[0].observe(xin, n);
            }
            seen[0] += n;
        });
        for (Proj p : group.members()) {
            if (guided) {
                GuidedHessians gh = guidedAcc.get(p);
                double[][] hs = new double[gh.groups()][];
                for (int k = 0; k < hs.length; k++) hs[k] = gh.hessian(k);
                out.put(p, hs);
            } else {
                out.put(p, new double[][] {plain[0].hessian()});
            }
        }
        return out;
    }

    /** Fisher diagonals by weight name (§2.3.1) and saliencies (n, g) by module name (§3.3). */
    private record Statistics(Map<String, float[]> fisher, Map<String, float[]> saliency) {
        static final Statistics NONE = new Statistics(Map.of(), Map.of());
    }

    private Statistics gradientStatistics(LlamaModel model, int[][] sequences, Listener listener) {
        Map<String, float[]> fisher = new HashMap<>();
        Map<String, float[]> saliency = new HashMap<>();
        Map<String, Integer> filled = new HashMap<>();
        int seqLen = sequences[0].length;
        long tokens = (long) sequences.length * seqLen;
        boolean guided = options.method().guided();
        boolean wantFisher = options.method() != QuantMethod.GUIDED_GPTQ;
        java.util.Set<String> targets = new java.util.HashSet<>();
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
                float[] s = saliency.computeIfAbsent(module, k -> new float[Math.toIntExact(tokens * groups)]);
                int at = filled.merge(module, n, Integer::sum) - n;
                System.arraycopy(GuidedHessians.saliency(g, n, dOut, groups), 0, s, at * groups, n * groups);
            }

            @Override
            public boolean wantsWeightGradient(String tensorName) {
                return wantFisher && targets.contains(tensorName);
            }

            @Override
            public void weightGradient(String tensorName, float[] grad) {
                // §2.3.1: square per sequence (batch 1), then sum.
                float[] f = fisher.computeIfAbsent(tensorName, k -> new float[grad.length]);
                for (int i = 0; i < grad.length; i++) f[i] += grad[i] * grad[i];
            }
        };
        listener.stage("gradients (forward + backward per sequence)", sequences.length);
        for (int s = 0; s < sequences.length; s++) {
            gradients.run(model, sequences[s], obs);
            listener.step(s + 1, "sequence");
        }
        return new Statistics(fisher, saliency);
    }
}
