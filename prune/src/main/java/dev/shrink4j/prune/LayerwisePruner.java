package dev.shrink4j.prune;

import dev.shrink4j.model.BlockMethod;
import dev.shrink4j.model.BlockPipeline;
import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.DenseLinear;
import dev.shrink4j.model.Group;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.linalg.Damping;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Unstructured and N:M pruning of every block linear (q, k, v, o, gate, up, down) with magnitude,
 * Wanda or SparseGPT, as a {@link BlockMethod} of the model's {@link BlockPipeline} (docs/methods/pipeline.md §1–§2:
 * true-sequential groups, compressed propagation): each group's statistics are gathered with the
 * block's already-pruned earlier groups, the group is pruned, and the pruned block produces the next
 * block's inputs. Each pruned matrix goes to the {@link Sink} as soon as it is done. Widened weights
 * and the pruned copies live in the block's arena; once the block's output has been propagated its
 * original layer is put back and the arena closes, so memory stays one block plus the (off-heap)
 * activations. Magnitude needs no calibration and runs no forward pass.
 *
 * <pre>
 *   LayerwisePruner.run(model, calibration, Settings.of(Method.WANDA, 0.5, null),
 *           (layer, proj, w, dOut, dIn) -> write(proj.weightName(layer), w),
 *           (layer, layers, detail) -> log(layer + 1, layers));
 * </pre>
 */
public final class LayerwisePruner {
    /** The per-matrix score. */
    public enum Method {
        MAGNITUDE, WANDA, SPARSEGPT;

        public boolean needsCalibration() {
            return this != MAGNITUDE;
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * @param sparsity  fraction removed per matrix (per row for Wanda, per column block for SparseGPT); unused for N:M
     * @param pattern   N:M pattern, or null for unstructured
     * @param blockSize SparseGPT's column block bs
     * @param damp      SparseGPT's relative damping δ
     * @param global    magnitude only: one threshold over all block linears (docs/methods/pruning.md §1) instead of per matrix
     */
    public record Settings(Method method, double sparsity, NmPattern pattern, int blockSize, double damp, boolean global) {
        public Settings {
            if (pattern == null) {
                SparsityTarget.check(sparsity, "--sparsity");
            }
            if (global && (method != Method.MAGNITUDE || pattern != null)) {
                throw new IllegalArgumentException("a global threshold applies to unstructured magnitude pruning only");
            }
        }

        public static Settings of(Method method, double sparsity, NmPattern pattern) {
            return new Settings(method, sparsity, pattern, SparseGpt.BLOCK_SIZE, 0.01, false);
        }
    }

    /** Receives each pruned matrix once. */
    @FunctionalInterface
    public interface Sink {
        /** @param w (d_out, d_in) row-major, pruned (and updated by SparseGPT) */
        void accept(int layer, Proj proj, float[] w, int dOut, int dIn);
    }

    /** Per-block progress, called once per block in order (ETA: block layer + 1 of layers is done). */
    @FunctionalInterface
    public interface Progress {
        /** @param detail SparseGPT's damping retries and dead columns in this block, or empty */
        void block(int layer, int layers, String detail);
    }

    /**
     * Tokens per forward pass. The pruner chunked its passes this way before it ran through the
     * pipeline; statistics are summed chunk by chunk, so keeping the size keeps the results bit for bit.
     */
    static final int ROWS_PER_PASS = 4096;

    private LayerwisePruner() {}

    /**
     * Prunes every block linear of {@code model}; the model is left as it was.
     *
     * @param calibration BOS-first windows (see {@link Calibration}); ignored, and may be null, for magnitude
     * @param progress    per-block progress, or null
     */
    public static void run(LlamaModel model, Calibration calibration, Settings s, Sink sink, Progress progress) {
        run(model, calibration, s, sink, progress, null);
    }

    /**
     * As above; when {@code keep} (a shared arena) is given, the pruned layers stay installed in the
     * model with their weights in {@code keep}, so the pruned model can be evaluated in memory.
     */
    public static void run(LlamaModel model, Calibration calibration, Settings s, Sink sink, Progress progress, Arena keep) {
        run(model, calibration, s, sink, progress, keep, null);
    }

    /**
     * As above, resumable (docs/reliability.md "Resume"): each pruned block is stored in {@code resume}
     * (null: not stored) and a rerun hands the finished blocks to the sink without pruning them again.
     */
    public static void run(LlamaModel model, Calibration calibration, Settings s, Sink sink, Progress progress, Arena keep,
                           dev.shrink4j.model.Resume resume) {
        boolean calibrate = s.method().needsCalibration();
        if (calibrate && (calibration == null || calibration.sequences().length == 0)) {
            throw new IllegalArgumentException(s.method().id() + " needs calibration tokens");
        }
        RadixSelect.Applier globalCut = s.global() ? globalCut(model, s.sparsity()) : null;
        Pruning pruning = new Pruning(model, s, sink, progress, keep, globalCut);
        BlockPipeline.Options options = BlockPipeline.Options.defaults().withRowsPerPass(ROWS_PER_PASS);
        try {
            BlockPipeline pipeline = new BlockPipeline(model, options);
            if (resume != null) pipeline.withCheckpoint(resume.blocks("prune"));
            pipeline.run(calibrate ? calibration : null, pruning);
        } finally {
            pruning.restore(); // after a failure, no layer may point into a closed block arena
        }
    }

    /**
     * docs/methods/pruning.md §1 global: one radix-select cut over every block linear, applied in the same scan
     * order (blocks, then q, k, v, o, gate, up, down). Each matrix is read in an arena of its own.
     */
    private static RadixSelect.Applier globalCut(LlamaModel model, double sparsity) {
        List<GlobalMagnitude.Matrix> scope = new ArrayList<>();
        for (int l = 0; l < model.numLayers(); l++) {
            Layer layer = model.layer(l);
            for (Proj p : EssentialSparsity.projections(layer)) {
                Linear lin = layer.linear(p);
                scope.add(lin::weight);
            }
        }
        return GlobalMagnitude.cutsOver(scope, new double[] {sparsity})[0].applier();
    }

    /** The pipeline hook: statistics per group, then the score on each member. */
    private static final class Pruning implements BlockMethod {
        private final LlamaModel model;
        private final Settings s;
        private final Sink sink;
        private final Progress progress;
        private final Arena keep; // null: put each block's original layer back
        private final RadixSelect.Applier globalCut; // null unless global magnitude
        private final Map<Group, Hessian> stats = new EnumMap<>(Group.class);
        private final Damping.Listener damping = (failed, pivot, nextDelta) -> { };
        private final StringBuilder detail = new StringBuilder();
        private int block = -1;
        private Layer original; // block's layer before pruning, while it is being pruned

        Pruning(LlamaModel model, Settings s, Sink sink, Progress progress, Arena keep, RadixSelect.Applier globalCut) {
            this.model = model;
            this.s = s;
            this.sink = sink;
            this.progress = progress;
            this.keep = keep;
            this.globalCut = globalCut;
        }

        @Override
        public boolean needsInputs(int layer) {
            return s.method().needsCalibration();
        }

        @Override
        public void observe(int layer, Group group, float[] x, int n, int dIn) {
            Hessian h = stats.computeIfAbsent(group, g -> new Hessian(dIn));
            if (s.method() == Method.SPARSEGPT) {
                h.observe(x, n);
            } else {
                h.observeSquaresOnly(x, n); // Wanda needs only the channel norms
            }
        }

        @Override
        public Map<Proj, Linear> compress(int layer, Group group, Layer current, Arena blockArena) {
            if (layer != block) {
                block = layer;
                original = current;
            }
            Hessian h = stats.remove(group);
            Arena into = keep != null ? keep : blockArena;
            Map<Proj, Linear> out = new EnumMap<>(Proj.class);
            for (Proj p : group.members()) {
                Linear lin = current.linear(p);
                int dOut = lin.outFeatures();
                int dIn = lin.inFeatures();
                float[] w = lin.weight(blockArena).toFloatArray();
                prune(p, w, dOut, dIn, h);
                sink.accept(layer, p, w, dOut, dIn);
                out.put(p, new DenseLinear(Tensor.ofFloats(into, Shape.of(dOut, dIn), w), lin.bias()));
            }
            return out;
        }

        /** Prunes {@code w} (d_out, d_in) in place; {@code h} holds the group's statistics (null for magnitude). */
        private void prune(Proj p, float[] w, int dOut, int dIn, Hessian h) {
            switch (s.method()) {
                case MAGNITUDE -> {
                    if (globalCut != null) {
                        globalCut.apply(w, 0, w.length);
                    } else if (s.pattern() == null) {
                        Magnitude.pruneMatrix(w, s.sparsity());
                    } else {
                        Magnitude.pruneNm(w, dOut, dIn, s.pattern());
                    }
                }
                case WANDA -> Wanda.ofSumSquares(h.sumSquares()).prune(w, dOut, dIn, s.sparsity(), s.pattern());
                case SPARSEGPT -> {
                    SparseGptLayer.Outcome o = SparseGptLayer.prune(w, dOut, dIn, h.matrix(),
                            s.sparsity(), s.pattern(), s.blockSize(), s.damp(), damping);
                    if (o.retries() > 0 || o.deadColumns() > 0) {
                        detail.append(String.format(Locale.ROOT, " %s: δ=%g, %d dead columns;", p, o.delta(), o.deadColumns()));
                    }
                }
            }
        }

        @Override
        public Map<String, Object> blockRecord(int layer) {
            return Map.of("detail", detail.toString());
        }

        @Override
        public Arena restoreArena(int layer, Layer current, Arena blockArena) {
            return keep != null ? keep : blockArena;
        }

        @Override
        public void restored(int layer, Layer current, Map<Proj, Linear> linears, Map<String, Object> record) {
            block = layer;
            original = current;
            try (Arena a = Arena.ofConfined()) {
                for (Map.Entry<Proj, Linear> e : linears.entrySet()) {
                    Linear lin = e.getValue();
                    sink.accept(layer, e.getKey(), lin.weight(a).toFloatArray(), lin.outFeatures(), lin.inFeatures());
                }
            }
            detail.append(record.getOrDefault("detail", ""));
        }

        @Override
        public void blockDone(int layer, Layer compressed, Arena blockArena) {
            restore();
            if (progress != null) {
                progress.block(layer, model.numLayers(), detail.toString());
            }
            detail.setLength(0);
        }

        /** Puts the block being pruned back to its original layer, unless the pruned layers are kept. */
        void restore() {
            if (keep == null && original != null) {
                model.setLayer(original);
            }
            original = null;
            block = -1;
        }
    }
}
