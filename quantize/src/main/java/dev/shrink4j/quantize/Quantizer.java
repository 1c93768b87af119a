package dev.shrink4j.quantize;

import dev.shrink4j.model.Backprop;
import dev.shrink4j.model.BlockMethod;
import dev.shrink4j.model.BlockPipeline;
import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.CompressedLinear;
import dev.shrink4j.model.GradientObserver;
import dev.shrink4j.model.Group;
import dev.shrink4j.model.InputStatistics;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.formats.CompressedWeight;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Quantizes every decoder linear of a model with the {@link BlockPipeline} (METHODS.md §1.2): per
 * block and true-sequential group, the group input's statistics (H, or GuidedQuant's H̄_k per member,
 * §3.2) feed the method, whose compressed linears are installed before the next group. RTN/GPTQ and
 * guided GPTQ use compressed propagation; SqueezeLLM, LNQ and GuidedQuant dense propagation (§1.2.3,
 * §3.4). Methods that need gradients first run one forward + backward per calibration sequence
 * (batch 1) on the dense model: squared per-sequence weight gradients (§2.3.1 Fisher) and per-token
 * group-averaged squared output gradients (§3.3). Embeddings, norms and the LM head stay as they are.
 *
 * <p>Lifecycle: {@code new Quantizer(options, arena)} → {@link #run} → the model now runs on the
 * compressed linears and {@link Result#weights()} holds them (their tensors live in the arena). With
 * {@link #writingTo} each block's compressed linears go to a sink (e.g. {@link QuantizedCheckpointWriter})
 * once the block's output has been propagated, and their memory is freed: the block is restored to its
 * original weights and {@link Result#weights()} stays empty, so memory does not grow with depth.
 */
public final class Quantizer {
    /** Progress and per-layer results as they happen. */
    public interface Listener {
        default void stage(String name, int total) {}

        default void step(int done, String what) {}

        default void layer(LayerReport report) {}
    }

    /**
     * @param objectiveInit  layer objective Σ_j e_jᵀ H e_j of the method's starting point (RTN / SqueezeLLM)
     * @param objectiveAfter layer objective of the result (on H, or on the guided H̄_k)
     */
    public record LayerReport(String module, int dOut, int dIn, String format, double objectiveInit, double objectiveAfter,
                              double payloadBitsPerWeight, double totalBitsPerWeight, double seconds, String note) {}

    /** Receives each compressed linear (module name {@code model.layers.i.mlp.down_proj}) when its block is done. */
    @FunctionalInterface
    public interface WeightSink {
        /** {@code weight}'s memory is freed when this returns: write or copy it now. */
        void accept(String module, CompressedWeight weight);
    }

    /**
     * Compressed weights by module name, in model order (empty when streamed to a {@link WeightSink}), and
     * their accounting over the quantized linears.
     */
    public record Result(Map<String, CompressedWeight> weights, List<LayerReport> layers, long parameters,
                         long payloadBytes, long storageBytes) {
        public double payloadBitsPerWeight() {
            return 8.0 * payloadBytes / parameters;
        }

        public double totalBitsPerWeight() {
            return 8.0 * storageBytes / parameters;
        }
    }

    /** Pipeline options; the Hessian cache name records its tokens per forward chunk. */
    private static final BlockPipeline.Options PIPELINE = BlockPipeline.Options.defaults();

    private final QuantizeOptions options;
    private final Arena arena;
    private java.nio.file.Path statisticsCache;
    private WeightSink sink;

    /** @param arena owns the compressed tensors; shared, and open while the model or the result is used */
    public Quantizer(QuantizeOptions options, Arena arena) {
        this.options = options;
        this.arena = arena;
    }

    /**
     * Caches the gradient-pass statistics (Fisher diagonals, saliencies, input norms) under {@code dir},
     * keyed by a SHA-256 of the model (config and every decoder linear's weights), the calibration
     * tokens, and what the method gathers (guided groups, Fisher or not) — not by the bit-width, so a
     * second run at other bits skips the forward + backward pass. Written with {@link
     * dev.shrink4j.tensors.io.CheckpointWriter} as {@code dir/<key>/model.safetensors}. For the
     * dense-propagation methods (squeezellm, lnq: H; guidedquant: H̄_k) the layer Hessians are cached
     * too, per block ({@link HessianCache}); a run that finds every block's Hessians runs no block forward.
     */
    public Quantizer withStatisticsCache(java.nio.file.Path dir) {
        this.statisticsCache = dir;
        return this;
    }

    /** Streams each block's compressed linears to {@code sink} instead of keeping them (see the class comment). */
    public Quantizer writingTo(WeightSink sink) {
        this.sink = sink;
        return this;
    }

    /**
     * Quantizes every decoder linear of {@code model}.
     *
     * @param calibration the calibration sequences; null only for RTN, which is data-free (§2.1): then no
     *                    forward pass runs and the layer objectives are not measured (reported as NaN)
     */
    public Result run(LlamaModel model, Calibration calibration, Listener listener) {
        QuantMethod m = options.method();
        boolean dataFree = calibration == null;
        if (dataFree && m != QuantMethod.RTN) throw new IllegalArgumentException(m.cliName() + " needs calibration data; only rtn is data-free");
        int[][] sequences = dataFree ? null : calibration.sequences();
        Statistics stats = Statistics.NONE;
        String key = statisticsCache == null || !m.needsGradients() ? null : cacheKey(model, sequences);
        if (m.needsGradients()) {
            java.nio.file.Path entry = key == null ? null : statisticsCache.resolve(key);
            if (entry != null && java.nio.file.Files.isRegularFile(entry.resolve("model.safetensors"))) {
                listener.stage("gradient statistics from cache " + entry.getFileName(), 1);
                stats = readStatistics(entry);
            } else {
                stats = gradientStatistics(model, sequences, listener);
                if (entry != null) writeStatistics(entry, stats);
            }
        }
        HessianCache hessians = key == null || !m.densePropagation() ? null
                : HessianCache.of(statisticsCache, key, m.guided(), PIPELINE.rowsPerPass());
        Method method = new Method(stats, hessians, model.numLayers(), dataFree);
        if (hessians != null) listener.stage(method.hessianStage(model), 0);
        listener.stage("quantize " + m.cliName() + " " + options.bits() + "-bit" + (dataFree ? " (data-free)" : ""), model.numLayers());
        BlockPipeline.Options po = PIPELINE.withPropagation(
                m.densePropagation() ? BlockPipeline.Propagation.DENSE : BlockPipeline.Propagation.COMPRESSED);
        try {
            new BlockPipeline(model, po).onBlockDone(b -> {
                if (sink != null) method.release(model, b);
                listener.step(b + 1, "block");
            }).run(calibration, method);
        } finally {
            if (method.blockArena != null) method.blockArena.close();
        }
        for (LayerReport r : method.reports) listener.layer(r);
        return new Result(method.weights, method.reports, method.params, method.payload, method.storage);
    }

    /** The pipeline hook: statistics per group, then the layer quantizer on each member. */
    private final class Method implements BlockMethod {
        final Statistics stats;
        final Map<String, CompressedWeight> weights = new LinkedHashMap<>();
        final List<LayerReport> reports = new ArrayList<>();
        final Map<Group, InputStatistics> plain = new EnumMap<>(Group.class);
        final Map<Proj, GuidedHessians> guided = new EnumMap<>(Proj.class);
        final Map<Group, Integer> seen = new EnumMap<>(Group.class); // tokens observed per group (saliency rows)
        final HessianCache hessians; // null: no Hessian cache
        final boolean[] cached; // per block: Hessians read from the cache (no inputs needed)
        final boolean dataFree; // RTN without calibration: no inputs, no H, objectives NaN
        int savedBlock = -1;
        // Hessians taken from the accumulators to be saved, until their group is compressed.
        final Map<Group, double[]> takenPlain = new EnumMap<>(Group.class);
        final Map<Proj, double[][]> takenGuided = new EnumMap<>(Proj.class);
        long params, payload, storage;
        // Streaming (sink != null): the block being compressed, its original layer, and the arena of its weights.
        int block = -1;
        Layer original;
        Arena blockArena;

        Method(Statistics stats, HessianCache hessians, int layers, boolean dataFree) {
            this.stats = stats;
            this.dataFree = dataFree;
            this.hessians = hessians;
            this.cached = new boolean[layers];
            for (int l = 0; l < layers && hessians != null; l++) cached[l] = hessians.has(l);
        }

        String hessianStage(LlamaModel model) {
            int n = 0;
            for (boolean c : cached) n += c ? 1 : 0;
            long bytes = HessianCache.modelBytes(model, options.method().guided(), options::guidedGroupsFor);
            String size = String.format("%.1f MiB", bytes / 1048576.0);
            String dir = hessians.directory().getFileName().toString();
            return n == cached.length ? "Hessians from cache " + dir + " (" + n + " blocks, " + size + ")"
                    : "Hessians to cache " + dir + " (" + n + "/" + cached.length + " blocks cached; " + size + " when complete)";
        }

        @Override
        public boolean needsInputs(int layer) {
            return !dataFree && !cached[layer];
        }

        /**
         * Dense propagation observes the whole block before its first group is compressed: take its
         * Hessians out of the accumulators (no copy) and store them; compress then uses the taken ones.
         */
        private void saveBlock(int layer) {
            try (HessianCache.BlockWriter w = hessians.writer(layer)) {
                for (Map.Entry<Group, InputStatistics> e : plain.entrySet()) {
                    double[] h = e.getValue().takeHessian();
                    w.add(HessianCache.plainName(e.getKey()), h, e.getValue().dIn());
                    takenPlain.put(e.getKey(), h);
                }
                for (Map.Entry<Proj, GuidedHessians> e : guided.entrySet()) {
                    double[][] hs = new double[e.getValue().groups()][];
                    for (int k = 0; k < hs.length; k++) {
                        hs[k] = e.getValue().takeHessian(k);
                        w.add(HessianCache.guidedName(e.getKey().module(layer), k), hs[k], e.getValue().dIn());
                    }
                    takenGuided.put(e.getKey(), hs);
                }
                plain.clear();
                guided.clear();
                w.commit();
            }
        }

        /** The plain H of {@code group}: from the cache, taken for saving, or from its accumulator. */
        private double[] plainHessian(int layer, Group group, int dIn) {
            if (hessians != null && cached[layer]) return hessians.read(layer, HessianCache.plainName(group), dIn);
            double[] h = takenPlain.remove(group);
            return h != null ? h : plain.remove(group).takeHessian();
        }

        /** The g guided H̄_k of {@code p}, likewise. */
        private double[][] guidedHessians(int layer, Proj p, int dOut, int dIn) {
            if (hessians != null && cached[layer]) {
                double[][] hs = new double[options.guidedGroupsFor(dOut)][];
                for (int k = 0; k < hs.length; k++) hs[k] = hessians.read(layer, HessianCache.guidedName(p.module(layer), k), dIn);
                return hs;
            }
            double[][] hs = takenGuided.remove(p);
            if (hs != null) return hs;
            GuidedHessians gh = guided.remove(p);
            hs = new double[gh.groups()][];
            for (int k = 0; k < hs.length; k++) hs[k] = gh.takeHessian(k);
            return hs;
        }

        /** The arena for {@code layer}'s compressed tensors: the caller's, or one per block when streaming. */
        private Arena weightArena(int layer, Layer current) {
            if (sink == null) return arena;
            if (layer != block) {
                if (blockArena != null) throw new IllegalStateException("block " + block + " was not released before block " + layer);
                block = layer;
                original = current;
                blockArena = Arena.ofShared();
            }
            return blockArena;
        }

        /** Hands block {@code b}'s weights to the sink, restores its original layer and frees the weights. */
        void release(LlamaModel model, int b) {
            if (b != block) return;
            String prefix = "model.layers." + b + ".";
            var it = weights.entrySet().iterator();
            while (it.hasNext()) {
                var e = it.next();
                if (!e.getKey().startsWith(prefix)) continue;
                sink.accept(e.getKey(), e.getValue());
                it.remove();
            }
            model.setLayer(original);
            blockArena.close();
            blockArena = null;
            original = null;
            block = -1;
        }

        @Override
        public void observe(int layer, Group group, float[] x, int n, int dIn) {
            if (options.method().guided()) {
                int from = seen.getOrDefault(group, 0);
                if (options.method().densePropagation()) checkInStep(layer, group, x, n, dIn, from);
                for (Proj p : group.members()) {
                    float[] sal = stats.saliency.get(p.module(layer));
                    int g = sal.length / stats.tokens;
                    guided.computeIfAbsent(p, k -> new GuidedHessians(dIn, g)).observe(x, sal, from, n);
                }
                seen.put(group, from + n);
            } else {
                plain.computeIfAbsent(group, k -> new InputStatistics(dIn)).add(x, n);
            }
        }

        /**
         * §3.3.3: the Hessian pass must see the tokens of the saliency pass in the same order. With dense
         * propagation both passes run the same dense model, so the inputs' per-token norms must agree.
         */
        private void checkInStep(int layer, Group group, float[] x, int n, int dIn, int from) {
            float[] expected = stats.inputNorms.get(group.members().get(0).module(layer));
            float[] got = rowNorms(x, n, dIn);
            for (int t = 0; t < n; t++) {
                float e = expected[from + t];
                if (Math.abs(got[t] - e) > 1e-3f * (1 + Math.abs(e))) {
                    throw new IllegalStateException("guided statistics out of step at layer " + layer + " " + group + " token " + (from + t)
                            + ": input norm " + got[t] + " vs " + e + " in the gradient pass");
                }
            }
        }

        @Override
        public Map<Proj, Linear> compress(int layer, Group group, Layer current, Arena blockArena) {
            Map<Proj, Linear> out = new EnumMap<>(Proj.class);
            if (hessians != null && layer != savedBlock) {
                savedBlock = layer;
                if (!cached[layer]) saveBlock(layer);
            }
            int groupDIn = current.linear(group.members().get(0)).inFeatures();
            double[] h = options.method().guided() || dataFree ? null : plainHessian(layer, group, groupDIn);
            for (Proj p : group.members()) {
                long t0 = System.nanoTime();
                double[][] hs = dataFree ? null
                        : h != null ? new double[][] {h} : guidedHessians(layer, p, current.linear(p).outFeatures(), groupDIn);
                Linear lin = current.linear(p);
                int dOut = lin.outFeatures(), dIn = lin.inFeatures();
                float[] w = lin.weight(blockArena).toFloatArray();
                LayerQuantizer.checkFinite(p.weightName(layer), w);
                Arena into = weightArena(layer, current);
                LayerQuantizer.Outcome o = LayerQuantizer.quantize(options, into, w, dOut, dIn, hs, stats.fisher.get(p.weightName(layer)));
                CompressedWeight cw = o.weight();
                params += (long) cw.dOut() * cw.dIn();
                payload += cw.payloadBytes();
                storage += cw.storageBytes();
                out.put(p, new CompressedLinear(cw, lin.bias()));
                weights.put(p.module(layer), cw);
                long n = (long) dOut * dIn;
                reports.add(new LayerReport(p.module(layer), dOut, dIn, cw.format(), o.objectiveInit(), o.objectiveAfter(),
                        8.0 * cw.payloadBytes() / n, 8.0 * cw.storageBytes() / n, (System.nanoTime() - t0) / 1e9, o.note()));
            }
            seen.remove(group);
            return out;
        }
    }

    /**
     * Fisher diagonals by weight name (§2.3.1), saliencies (tokens, g) by module name (§3.3), and the
     * number of calibration tokens.
     */
    private record Statistics(Map<String, float[]> fisher, Map<String, float[]> saliency, Map<String, float[]> inputNorms, int tokens) {
        static final Statistics NONE = new Statistics(Map.of(), Map.of(), Map.of(), 1);
    }

    /** The cache key: model, calibration tokens, and which statistics the method gathers. */
    private String cacheKey(LlamaModel model, int[][] sequences) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update(("shrink4j-quant-stats-v1 guided=" + options.method().guided() + " fisher="
                    + (options.method() != QuantMethod.GUIDED_GPTQ) + " guidedGroups=" + options.guidedGroups() + " "
                    + model.config()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * 1024).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int[] seq : sequences) {
                for (int t : seq) {
                    if (!b.hasRemaining()) { md.update(b.array(), 0, b.position()); b.clear(); }
                    b.putInt(t);
                }
                if (b.remaining() < 4) { md.update(b.array(), 0, b.position()); b.clear(); }
                b.putInt(-1);
            }
            md.update(b.array(), 0, b.position());
            for (int l = 0; l < model.numLayers(); l++) {
                for (Proj p : Proj.values()) {
                    Linear lin = model.layer(l).linear(p);
                    if (lin == null) continue;
                    try (Arena a = Arena.ofConfined()) {
                        md.update(lin.weight(a).segment().asByteBuffer());
                    }
                }
            }
            return java.util.HexFormat.of().formatHex(md.digest()).substring(0, 32);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writeStatistics(java.nio.file.Path entry, Statistics s) {
        java.util.Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("tokens", Integer.toString(s.tokens()));
        try (Arena a = Arena.ofConfined();
             var w = dev.shrink4j.tensors.io.CheckpointWriter.create(entry,
                     new dev.shrink4j.tensors.io.CheckpointWriter.Options(true, 4L << 30, meta))) {
            for (var e : new java.util.TreeMap<>(s.fisher()).entrySet()) w.add("fisher." + e.getKey(), vector(a, e.getValue()));
            for (var e : new java.util.TreeMap<>(s.saliency()).entrySet()) w.add("saliency." + e.getKey(), vector(a, e.getValue()));
            for (var e : new java.util.TreeMap<>(s.inputNorms()).entrySet()) w.add("norms." + e.getKey(), vector(a, e.getValue()));
            w.commit();
        }
    }

    private static dev.shrink4j.tensors.Tensor vector(Arena a, float[] v) {
        return dev.shrink4j.tensors.Tensor.ofFloats(a, dev.shrink4j.tensors.Shape.of(v.length), v);
    }

    private static Statistics readStatistics(java.nio.file.Path entry) {
        Map<String, float[]> fisher = new HashMap<>(), saliency = new HashMap<>(), norms = new HashMap<>();
        try (Arena a = Arena.ofConfined()) {
            var ck = dev.shrink4j.tensors.io.Checkpoint.open(entry, a);
            for (String name : ck.names()) {
                float[] v = ck.tensor(name).toFloatArray();
                int dot = name.indexOf('.');
                String kind = name.substring(0, dot), key = name.substring(dot + 1);
                switch (kind) {
                    case "fisher" -> fisher.put(key, v);
                    case "saliency" -> saliency.put(key, v);
                    case "norms" -> norms.put(key, v);
                    default -> throw new dev.shrink4j.tensors.ShrinkException("statistics cache " + entry + ": unexpected tensor " + name);
                }
            }
            String tokens = ck.metadata().get("tokens");
            if (tokens == null) throw new dev.shrink4j.tensors.ShrinkException("statistics cache " + entry + " lacks its token count");
            return new Statistics(fisher, saliency, norms, Integer.parseInt(tokens));
        }
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

    private Statistics gradientStatistics(LlamaModel model, int[][] sequences, Listener listener) {
        Map<String, float[]> fisher = new HashMap<>();
        Map<String, float[]> saliency = new HashMap<>();
        Map<String, Integer> filled = new HashMap<>();
        Map<String, float[]> inputNorms = new HashMap<>();
        int tokens = sequences.length * sequences[0].length;
        boolean guided = options.method().guided();
        boolean wantFisher = options.method() != QuantMethod.GUIDED_GPTQ; // SqueezeLLM init of LNQ (§3.5.1)
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
                // §2.3.1: square per sequence (batch 1), then sum.
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
        return new Statistics(fisher, saliency, inputNorms, tokens);
    }
}
