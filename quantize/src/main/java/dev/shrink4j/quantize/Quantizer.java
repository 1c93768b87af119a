package dev.shrink4j.quantize;

import dev.shrink4j.model.BlockPipeline;
import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Resume;
import dev.shrink4j.tensors.formats.CompressedWeight;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Quantizes every decoder linear of a model with the {@link BlockPipeline} (docs/methods/quantize.md
 * docs/methods/pipeline.md §1–§2): per block and true-sequential group, the group input's statistics (H, or GuidedQuant's H̄_k
 * per member, docs/methods/guidedquant-lnq.md §2) feed the method, whose compressed linears are installed before the next group.
 * RTN/GPTQ and guided GPTQ use compressed propagation; SqueezeLLM, LNQ and GuidedQuant dense
 * propagation (docs/methods/pipeline.md §2.3, docs/methods/guidedquant-lnq.md §4). Methods that need gradients first run the {@link GradientStatistics}
 * pass on the dense model. Embeddings, norms and the LM head stay as they are. A compressed input is
 * read through {@link dev.shrink4j.model.Linear#weight}, i.e. dequantized per block.
 *
 * <p>This class only orders the stages; the pieces are siblings: {@link GradientStatistics} (the
 * gradient pass), {@link StatisticsCache} and {@link HessianCache} (the two caches),
 * {@link BlockHessians} (H per group), {@link QuantizeBlockMethod} (the pipeline hook),
 * {@link StreamedWeights} (the sink lifecycle) and {@link BitAccounting} (reports and totals).
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
    private StatisticsCache statisticsCache;
    private Resume resume; // null: not resumable
    private WeightSink sink;
    private Map<String, Double> outlierRatios = Map.of();
    private ModuleOverrides overrides = ModuleOverrides.NONE;

    /** @param arena owns the compressed tensors; shared, and open while the model or the result is used */
    public Quantizer(QuantizeOptions options, Arena arena) {
        this.options = options;
        this.arena = arena;
    }

    /**
     * Caches the gradient-pass statistics (Fisher diagonals, saliencies, input norms) under {@code dir}
     * ({@link StatisticsCache}: keyed by the model, the calibration tokens and what the method gathers,
     * not by the bit-width, so a second run at other bits skips the forward + backward pass). For the
     * dense-propagation methods (squeezellm, lnq: H; guidedquant: H̄_k) the layer Hessians are cached
     * too, per block ({@link HessianCache}); a run that finds every block's Hessians runs no block forward.
     */
    public Quantizer withStatisticsCache(Path dir) {
        this.statisticsCache = new StatisticsCache(dir);
        return this;
    }

    /**
     * ReQuant's outliers (docs/methods/pqi-requant.md §3 steps 3–4): module name → ratio r_o of its weights
     * furthest from their row mean that leave the dense part before it is quantized and are kept exactly in
     * a sparse part ({@code dense_and_sparse} output). Modules not named get none.
     */
    public Quantizer withOutliers(Map<String, Double> ratioByModule) {
        this.outlierRatios = Map.copyOf(ratioByModule);
        return this;
    }

    /** Per-module settings that differ from the run's (checked against its options here). */
    public Quantizer withOverrides(ModuleOverrides overrides) {
        overrides.check(options);
        this.overrides = overrides;
        return this;
    }

    /**
     * Resume after a crash (docs/reliability.md "Resume"): each finished block is stored in {@code resume}
     * and a rerun continues from the first unfinished one; the gradient pass's statistics are stored
     * there too (checkpointed, not recomputed).
     */
    public Quantizer withResume(Resume resume) {
        this.resume = resume;
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
     * @param calibration the calibration sequences; null only for RTN, which is data-free (docs/methods/rtn-gptq.md §1): then no
     *                    forward pass runs and the layer objectives are not measured (reported as NaN)
     */
    public Result run(LlamaModel model, Calibration calibration, Listener listener) {
        QuantMethod m = options.method();
        boolean dataFree = calibration == null;
        if (dataFree && m != QuantMethod.RTN) throw new IllegalArgumentException(m.cliName() + " needs calibration data; only rtn is data-free");
        int[][] sequences = dataFree ? null : calibration.sequences();
        String key = statisticsCache == null || !m.needsGradients() ? null : StatisticsCache.key(model, sequences, options);
        GradientStatistics stats = m.needsGradients() ? gradientStatistics(model, sequences, key, listener) : GradientStatistics.NONE;
        HessianCache hessianCache = key == null || !m.densePropagation() ? null
                : HessianCache.of(statisticsCache.directory(), key, m.guided(), PIPELINE.rowsPerPass());
        BlockHessians hessians = new BlockHessians(options, stats, hessianCache, model.numLayers());
        if (hessianCache != null) listener.stage(hessians.cacheStage(model), 0);

        StreamedWeights weights = new StreamedWeights(arena, sink);
        BitAccounting accounting = new BitAccounting();
        QuantizeBlockMethod method = new QuantizeBlockMethod(options, stats, hessians, weights, accounting, dataFree, outlierRatios)
                .withOverrides(overrides);
        listener.stage("quantize " + m.cliName() + " " + options.bits() + "-bit" + (dataFree ? " (data-free)" : ""), model.numLayers());
        BlockPipeline.Options po = PIPELINE.withPropagation(
                m.densePropagation() ? BlockPipeline.Propagation.DENSE : BlockPipeline.Propagation.COMPRESSED);
        try {
            BlockPipeline pipeline = new BlockPipeline(model, po);
            if (resume != null) pipeline.withCheckpoint(resume.blocks("quantize"));
            pipeline.onBlockDone(b -> {
                weights.release(model, b);
                listener.step(b + 1, "block");
            }).run(calibration, method);
        } finally {
            weights.closeBlock();
        }
        for (LayerReport r : accounting.reports()) listener.layer(r);
        return accounting.result(weights.kept());
    }

    /** Resume's entry of the gradient statistics (its directory's fingerprint already names model and tokens). */
    private static final String RESUME_STATISTICS = "gradient-statistics";

    /** From the cache when it has them, else the gradient pass (then cached). */
    private GradientStatistics gradientStatistics(LlamaModel model, int[][] sequences, String key, Listener listener) {
        if (key == null && resume != null) {
            StatisticsCache checkpointed = new StatisticsCache(resume.directory());
            var stored = checkpointed.read(RESUME_STATISTICS);
            if (stored.isPresent()) {
                listener.stage("gradient statistics from the interrupted run (checkpointed)", 1);
                return stored.get();
            }
            GradientStatistics stats = GradientStatistics.gather(model, sequences, options, listener);
            checkpointed.write(RESUME_STATISTICS, stats);
            return stats;
        }
        if (key != null) {
            var cached = statisticsCache.read(key);
            if (cached.isPresent()) {
                listener.stage("gradient statistics from cache " + statisticsCache.entryName(key), 1);
                return cached.get();
            }
        }
        GradientStatistics stats = GradientStatistics.gather(model, sequences, options, listener);
        if (key != null) statisticsCache.write(key, stats);
        return stats;
    }
}
