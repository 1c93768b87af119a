package dev.shrink4j.lowrank;

import dev.shrink4j.model.BlockMethod;
import dev.shrink4j.model.BlockPipeline;
import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.CompressedLinear;
import dev.shrink4j.model.DenseLinear;
import dev.shrink4j.model.Group;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.model.Resume;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.DenseWeight;
import dev.shrink4j.tensors.io.Checkpoint;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Factorizes every linear of every decoder block of a checkpoint and writes a new checkpoint, one
 * block at a time (DESIGN "main flow"), always as a method of the model's {@link BlockPipeline}
 * (true-sequential groups, compressed propagation, docs/methods/pipeline.md §1–§2). Two ways in:
 * <ul>
 *   <li>{@link #run(Path, Path, Options, Listener)} for the weight-only methods (svd, lost): no
 *       calibration, no forward pass; each block's weights are widened to F32 in the block arena,
 *       factorized, written and released, so memory stays at one block whatever the model size;</li>
 *   <li>{@link #run(LlamaModel, Path, Path, Options, Calibration, Listener)} with a model the caller
 *       keeps: with calibration, statistics come from the pipeline's observation passes; the written
 *       weights are installed in the model, which can be evaluated afterwards (it keeps the factorized
 *       blocks in memory).</li>
 * </ul>
 */
public final class CheckpointLowRank {
    /** Block linears: the 2-D weights under {@code model.layers.N.}. */
    private static final Pattern BLOCK_WEIGHT = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)\\.weight");

    /**
     * @param output     compressed formats or merged dense weights
     * @param force      replace an existing output directory
     * @param factorType element type of factors and column values; null keeps each weight's own
     * @param provenance written under {@code shrink4j.provenance} in config.json
     */
    public record Options(LowRankFormat output, boolean force, DType factorType, Map<String, Object> provenance) {}

    /** One compressed linear, for progress and the report. */
    public record LinearRow(String module, int dOut, int dIn, int rank, int columns, long params, long denseParams,
                            double weightError, double outputError, double damping, double seconds) {}

    /** Totals of a run. */
    public record Summary(Path output, int blocks, int linears, long denseParams, long params, long outputBytes) {
        /** Achieved parameter ratio over the factorized linears. */
        public double ratio() {
            return denseParams == 0 ? 0 : (double) params / denseParams;
        }
    }

    /** Progress callbacks, called on the compressing thread. */
    public interface Listener {
        default void started(int blocks, int linears) {}

        default void linear(LinearRow row) {}

        default void blockDone(int block, int blocks) {}
    }

    private final LowRankCompressor compressor;

    public CheckpointLowRank(LowRankCompressor compressor) {
        this.compressor = compressor;
    }

    /**
     * Checks every block linear of {@code in} against the budget before any work starts (reads the
     * safetensors headers only), so an impossible ratio fails at once with the module's name.
     */
    public void preflight(Path in) {
        dev.shrink4j.model.CheckpointConfig.requireDense(in, "lowrank");
        try (Arena mapped = Arena.ofConfined()) {
            Checkpoint ckpt = Checkpoint.open(in, mapped);
            TreeMap<Integer, List<String>> blocks = blockLinears(ckpt);
            if (blocks.isEmpty()) throw new ShrinkException(in + ": no decoder-block linears (model.layers.N.*.weight) found");
            for (List<String> modules : blocks.values()) {
                for (String module : modules) {
                    long[] d = ckpt.info(module + ".weight").shape().dims();
                    compressor.plan(module, Math.toIntExact(d[0]), Math.toIntExact(d[1]));
                }
            }
        }
    }

    /**
     * Weight-only methods, block by block from the mapped checkpoint {@code in}: the model is loaded
     * over the mapping and driven by the {@link BlockPipeline} without calibration (no forward pass,
     * as data-free RTN), and nothing is installed in it, so each block's widened weights and factors
     * die with the block's arena and memory stays at one block whatever the model size.
     */
    public Summary run(Path in, Path out, Options options, Listener listener) {
        return run(in, out, options, listener, null);
    }

    /**
     * As above, resumable (docs/reliability.md "Resume"): each factorized block is stored in {@code resume}
     * (null: not stored) and a rerun writes the finished blocks without factorizing them again.
     */
    public Summary run(Path in, Path out, Options options, Listener listener, Resume resume) {
        LowRankMethod method = compressor.settings().method();
        if (method.needsCalibration()) {
            throw new ShrinkException("method " + method.cliName() + " needs calibration data (--calib)");
        }
        preflight(in);
        try (Arena mapped = Arena.ofShared()) {
            return through(LlamaModel.load(in, mapped), in, out, options, null, listener, false, resume);
        }
    }

    /**
     * Through {@code model} (loaded from {@code in}) with the {@link BlockPipeline}: with
     * {@code calibration} the statistics come from the pipeline's observation passes; without it
     * (weight-only methods) the pipeline runs no forward pass. Either way {@code model} ends up
     * holding exactly the weights written (factors, or merged Ŵ for the dense format), so evaluating
     * it evaluates the output checkpoint.
     */
    public Summary run(LlamaModel model, Path in, Path out, Options options, Calibration calibration, Listener listener) {
        return run(model, in, out, options, calibration, listener, null);
    }

    /** As above, resumable through {@code resume} (null: not stored). */
    public Summary run(LlamaModel model, Path in, Path out, Options options, Calibration calibration, Listener listener, Resume resume) {
        LowRankMethod method = compressor.settings().method();
        if (method.needsCalibration() && calibration == null) {
            throw new ShrinkException("method " + method.cliName() + " needs calibration data (--calib)");
        }
        preflight(in);
        return through(model, in, out, options, calibration, listener, true, resume);
    }

    /** @param install put the written weights into {@code model} (else they live only for their block) */
    private Summary through(LlamaModel model, Path in, Path out, Options options, Calibration calibration, Listener listener,
                            boolean install, Resume resume) {
        int layers = model.numLayers();
        try (Arena mapped = Arena.ofShared()) {
            Checkpoint ckpt = Checkpoint.open(in, mapped);
            Set<String> linears = new HashSet<>();
            int total = 0;
            for (int l = 0; l < layers; l++) {
                for (Proj p : model.layer(l).linears().keySet()) {
                    linears.add(p.weightName(l));
                    total++;
                }
            }
            try (LowRankCheckpointWriter writer = new LowRankCheckpointWriter(ckpt, out, options, linears)) {
                listener.started(layers, total);
                Method m = new Method(model, writer, compressor.settings().method(), listener, calibration != null, install);
                BlockPipeline pipeline = new BlockPipeline(model, BlockPipeline.Options.defaults());
                if (resume != null) pipeline.withCheckpoint(resume.blocks("lowrank"));
                try {
                    pipeline.onBlockDone(b -> listener.blockDone(b + 1, layers)).run(calibration, m);
                } finally {
                    m.restoreOriginal(); // not installing: no layer may point into a closed block arena
                }
                return writer.commit(layers);
            }
        }
    }

    /** Plugs the compressor into the model's block pipeline (observe → compress per group). */
    private final class Method implements BlockMethod {
        private final LowRankCheckpointWriter writer;
        private final LowRankMethod method;
        private final Listener listener;
        private final boolean calibrated;
        private final boolean install;
        private final Map<Group, LinearStats> stats = new EnumMap<>(Group.class);
        private final Map<String, Object> records = new java.util.LinkedHashMap<>(); // module → its row, for resume
        private int block = -1;
        private Layer original; // the block's layer before factorization, put back when not installing

        private final LlamaModel model;

        Method(LlamaModel model, LowRankCheckpointWriter writer, LowRankMethod method, Listener listener, boolean calibrated, boolean install) {
            this.model = model;
            this.writer = writer;
            this.method = method;
            this.listener = listener;
            this.calibrated = calibrated;
            this.install = install;
        }

        @Override
        public boolean needsInputs(int layer) {
            return calibrated;
        }

        @Override
        public void observe(int layer, Group group, float[] x, int n, int dIn) {
            stats.computeIfAbsent(group, g -> LinearStats.forMethod(method, dIn)).observe(x, n);
        }

        @Override
        public Map<Proj, Linear> compress(int layer, Group group, Layer current, Arena blockArena) {
            if (layer != block) {
                block = layer;
                original = current;
                records.clear();
            }
            Map<Proj, Linear> out = new EnumMap<>(Proj.class);
            for (Proj p : group.members()) {
                Linear lin = current.linear(p);
                if (lin == null) continue;
                Tensor wt = lin.weight(blockArena);
                // Installed, the replacement is exactly what is written, and outlives the block arena:
                // callers may evaluate the model afterwards. Not installed, it is written and dropped.
                Arena into = install ? Arena.ofAuto() : blockArena;
                CompressedWeight w = compressOne(p.module(layer), wt.toFloatArray(), wt, stats.get(group), writer, into, listener, records);
                // Not installing, the replacement still goes into the block (so a resumable run stores it) until blockDone.
                out.put(p, w instanceof DenseWeight d ? new DenseLinear(d.weight(), lin.bias()) : new CompressedLinear(w, lin.bias()));
            }
            stats.remove(group);
            return out;
        }

        @Override
        public Map<String, Object> blockRecord(int layer) {
            return Map.of("linears", new java.util.LinkedHashMap<>(records));
        }

        @Override
        public Arena restoreArena(int layer, Layer current, Arena blockArena) {
            return install ? Arena.ofAuto() : blockArena;
        }

        @Override
        public void restored(int layer, Layer current, Map<Proj, Linear> linears, Map<String, Object> record) {
            block = layer;
            original = current;
            Map<String, Object> rows = Resume.map(record.get("linears"));
            for (Map.Entry<Proj, Linear> e : linears.entrySet()) {
                String module = e.getKey().module(layer);
                Linear lin = e.getValue();
                CompressedWeight w = lin instanceof CompressedLinear c ? c.compressed() : new DenseWeight(lin.weight(Arena.ofAuto()));
                Map<String, Object> row = Resume.map(rows.get(module));
                LinearRow r = new LinearRow(module, w.dOut(), w.dIn(), ((Number) row.get("rank")).intValue(), ((Number) row.get("columns")).intValue(),
                        ((Number) row.get("params")).longValue(), (long) w.dOut() * w.dIn(), Resume.real(row.get("weight_error")),
                        Resume.real(row.get("output_error")), Resume.real(row.get("damping")), Resume.real(row.get("seconds")));
                writer.addStored(module, w, r.denseParams(), r.params());
                listener.linear(r);
            }
        }

        @Override
        public void blockDone(int layer, Layer compressed, Arena blockArena) {
            restoreOriginal();
        }

        /** Not installing: puts the block's original layer back (its factors die with the block arena). */
        void restoreOriginal() {
            if (!install && original != null) model.setLayer(original);
            original = null;
            block = -1;
        }
    }

    /** Factorizes one weight, writes it, reports it; returns the stored weight (in {@code arena}). */
    private CompressedWeight compressOne(String module, float[] w, Tensor original, LinearStats stats, LowRankCheckpointWriter writer,
                                Arena arena, Listener listener, Map<String, Object> records) {
        long t0 = System.nanoTime();
        int dOut = Math.toIntExact(original.shape().dim(0)), dIn = Math.toIntExact(original.shape().dim(1));
        LowRankCompressor.Result r = compressor.compress(module, w, dOut, dIn, stats);
        CompressedWeight stored = writer.add(module, r, original.dtype(), arena);
        LostDecomposition lost = r.lost();
        LinearRow row = new LinearRow(module, dOut, dIn, r.lowRank().rank(), lost == null ? 0 : lost.columnCount(),
                r.params(), (long) dOut * dIn, r.weightError(), r.outputError(), r.damping(), (System.nanoTime() - t0) / 1e9);
        listener.linear(row);
        Map<String, Object> rec = new java.util.LinkedHashMap<>();
        rec.put("rank", row.rank());
        rec.put("columns", row.columns());
        rec.put("params", row.params());
        rec.put("weight_error", Resume.real(row.weightError()));
        rec.put("output_error", Resume.real(row.outputError()));
        rec.put("damping", Resume.real(row.damping()));
        rec.put("seconds", Resume.real(row.seconds()));
        records.put(module, rec);
        return stored;
    }

    /** Block index → its linear module names (weights without the {@code .weight} suffix), in name order. */
    static TreeMap<Integer, List<String>> blockLinears(Checkpoint ckpt) {
        TreeMap<Integer, List<String>> blocks = new TreeMap<>();
        for (String name : ckpt.names()) {
            Matcher m = BLOCK_WEIGHT.matcher(name);
            if (m.matches() && ckpt.info(name).shape().rank() == 2) {
                blocks.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new ArrayList<>()).add(name.substring(0, name.length() - ".weight".length()));
            }
        }
        return blocks;
    }
}
