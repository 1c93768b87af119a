package dev.shrink4j.cli;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.prune.LayerwisePruner;
import dev.shrink4j.prune.NmPattern;
import dev.shrink4j.prune.PrunedCheckpoint;
import dev.shrink4j.quantize.CompressedTensorsSparse24;
import dev.shrink4j.prune.PrunedWeightsWriter;
import dev.shrink4j.prune.SparseGpt;
import dev.shrink4j.prune.StructuredPruning;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code shrink4j prune}: magnitude, Wanda, SparseGPT (unstructured or N:M, stored as CSR / N:M or
 * dense with zeros) through {@link LayerwisePruner}, and 2SSP structured pruning with its width-only
 * and depth baselines through {@link StructuredPruning} (a smaller dense checkpoint). This class only
 * parses, calls and prints.
 */
final class PruneCommand implements Command {
    static final List<String> METHODS = List.of("magnitude", "wanda", "sparsegpt", "2ssp", "width", "depth");
    private static final List<String> FORMATS = List.of("auto", "csr", "nm", "dense", "compressed-tensors");

    @Override
    public String name() {
        return "prune";
    }

    @Override
    public String summary() {
        return "prune weights: magnitude, Wanda, SparseGPT (unstructured, 2:4, 4:8) or 2SSP structured";
    }

    @Override
    public String arguments() {
        return "IN OUT";
    }

    @Override
    public String footer() {
        return """

                Methods (docs/methods/pruning.md, docs/methods/2ssp.md): magnitude (no data), wanda, sparsegpt —
                every block linear pruned to --sparsity (or the N:M --pattern); 2ssp — FFN width by activation
                norms, then attention submodules by calibration perplexity, written as a smaller dense model.
                Baselines: width (FFN width only, same parameter count as 2ssp) and depth (whole blocks, greedy by
                calibration perplexity, the nearest reachable sparsity).
                Calibration: --samples windows of --seq-len tokens, BOS first, at seeded random offsets of the text
                (or of the model's own generations: --calib self, the default); 2ssp/width/depth given a text file
                cut it (no BOS) into consecutive chunks as the 2SSP reference does.
                Quality before/after as in quantize (--eval, default self-generated text; --no-eval skips it).
                Example: shrink4j prune --method sparsegpt --pattern 2:4 --calib examples/text/tinystories-valid.txt examples/stories260K /tmp/s24
                """;
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("method").hasArg().argName("M").desc(String.join("|", METHODS) + " (required)").build());
        o.addOption(Option.builder().longOpt("sparsity").hasArg().argName("S").desc("fraction of weights removed, in [0, 1) (0.5 or 50%)").build());
        o.addOption(Option.builder().longOpt("pattern").hasArg().argName("P").desc("unstructured (default), 2:4 or 4:8 (keep N of every M)").build());
        o.addOption(Option.builder().longOpt("format").hasArg().argName("F").desc("auto (csr for unstructured, nm for N:M), csr, nm, dense (zeros stored) or compressed-tensors (2:4 as sparse-24-bitmask)").build());
        o.addOption(Option.builder().longOpt("global").desc("magnitude: one threshold over all block linears instead of per matrix").build());
        o.addOption(Option.builder().longOpt("block-size").hasArg().argName("B").desc("SparseGPT column block (default " + SparseGpt.BLOCK_SIZE + ")").build());
        o.addOption(Option.builder().longOpt("damp").hasArg().argName("D").desc("SparseGPT relative damping δ (default 0.01)").build());
        CompressionRun.addOptions(o, 128, "32 samples for 2ssp/width and 1 for depth by default; magnitude needs none");
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) throws Exception {
        Args args = new Args(cl);
        List<String> paths = args.positionals("IN", "OUT");
        String method = args.choice("method", null, METHODS);
        boolean structured = method.equals("2ssp") || method.equals("width") || method.equals("depth");
        NmPattern pattern = usage(() -> NmPattern.parse(args.string("pattern", "unstructured"), "--pattern"));
        if (structured && pattern != null) {
            throw new UsageException("--pattern " + pattern + " applies to magnitude, wanda and sparsegpt, not " + method);
        }
        double sparsity;
        if (pattern != null) {
            if (args.has("sparsity") && Math.abs(args.fraction("sparsity", 0, 0, 1, true) - pattern.sparsity()) > 1e-9) {
                throw new UsageException("--pattern " + pattern + " removes exactly " + pattern.sparsity() + "; drop --sparsity or make it match");
            }
            sparsity = pattern.sparsity();
        } else {
            if (!args.has("sparsity")) throw new UsageException("--sparsity is required (or an N:M --pattern), e.g. --sparsity 0.5");
            sparsity = args.fraction("sparsity", 0, 0, 1, true);
        }
        String format = args.choice("format", "auto", FORMATS);
        if (structured && !format.equals("auto") && !format.equals("dense")) {
            throw new UsageException("--format " + format + ": " + method + " writes a smaller dense checkpoint");
        }
        if (format.equals("auto")) format = structured ? "dense" : pattern != null ? "nm" : "csr";
        if (format.equals("nm") && pattern == null) throw new UsageException("--format nm needs an N:M --pattern");
        boolean ct = format.equals("compressed-tensors");
        if (ct && (pattern == null || pattern.n() != 2 || pattern.m() != 4)) {
            throw new UsageException("--format compressed-tensors holds 2:4 results (sparse-24-bitmask): add --pattern 2:4");
        }
        LayerwisePruner.Settings settings = structured ? null : settings(args, method, sparsity, pattern);
        Path in = Args.inputDir("IN", Path.of(paths.get(0)));
        Path out = args.output(in, paths.get(1));
        if (args.has("dry-run")) {
            DryRun.print("prune", cl, in, console.out());
            return 0;
        }

        try (CompressionRun run = new CompressionRun("prune", args, console, in, out)) {
            LlamaModel model = run.loadInput(false);
            if (pattern != null) checkPattern(model, pattern);
            boolean needsCalib = !method.equals("magnitude");
            Tokenizer tok = run.tokenizer(model, needsCalib);
            int defaultSamples = method.equals("depth") ? 1 : structured ? 32 : 128;
            Calibration calibration = needsCalib ? calibration(run, args, model, tok, structured, defaultSamples) : null;
            EvalSupport eval = run.evaluation(model, tok);
            LlamaModel reference = eval.enabled() ? LlamaModel.load(in, run.arena()) : null;
            run.evalBefore(eval, reference);

            Map<String, Object> provenance = new LinkedHashMap<>();
            provenance.put("method", method);
            provenance.put("sparsity", sparsity);
            if (!structured) provenance.put("pattern", pattern == null ? "unstructured" : pattern.toString());
            if (settings != null && settings.method() == LayerwisePruner.Method.MAGNITUDE) {
                provenance.put("threshold", settings.global() ? "global" : "per matrix");
            }
            if (run.report().get("calibration") != null) provenance.put("calibration", run.report().get("calibration"));
            provenance.put("tool_version", Main.VERSION);
            run.report().put("method", method);
            run.report().put("parameters", provenance);

            String summary;
            // compressed-tensors: the N:M checkpoint goes to a hidden staging sibling, is rewritten as sparse-24-bitmask, evaluated, removed.
            Path staging = ct ? out.toAbsolutePath().normalize().resolveSibling("." + out.getFileName() + ".staging-" + ProcessHandle.current().pid()) : out;
            try (CheckpointWriter writer = CheckpointWriter.create(staging, CheckpointWriter.Options.defaults().withForce(ct || args.has("force")))) {
                String storage = ct ? "nm" : format;
                summary = run.stage("prune", () -> structured
                        ? runStructured(run, method, model, sparsity, calibration, writer, provenance)
                        : runLayerwise(run, model, settings, storage, pattern, calibration, writer, provenance));
                run.stage("write", () -> {
                    run.progress().stage("write " + out, 0);
                    PrunedCheckpoint.copySideFiles(in, writer);
                    writer.commit();
                    if (ct) {
                        try {
                            for (String n : CompressedTensorsSparse24.write(in, staging, out, args.has("force"))) run.progress().note("note: " + n);
                        } catch (RuntimeException e) {
                            QuantizeCommand.deleteTree(staging); // nothing half-written is left behind
                            throw e;
                        }
                    }
                    return null;
                });
            }
            // The evaluation reads the written checkpoint back (CSR / N:M through the runtime's compressed linears;
            // compressed-tensors has no reader in the runtime: its staging N:M checkpoint holds the same values).
            try {
                run.evalAfter(eval, LlamaModel.load(staging, run.arena()), reference);
            } finally {
                if (ct) QuantizeCommand.deleteTree(staging);
            }
            run.finish(String.format(Locale.ROOT, "prune %s: %s, written to %s (%s)", method, summary, out, format));
        }
        return 0;
    }

    private static LayerwisePruner.Settings settings(Args args, String method, double sparsity, NmPattern pattern) {
        LayerwisePruner.Method m = LayerwisePruner.Method.valueOf(method.toUpperCase(Locale.ROOT));
        int bs = args.integer("block-size", SparseGpt.BLOCK_SIZE, 1);
        if (pattern != null && bs % pattern.m() != 0) {
            throw new UsageException("--block-size " + bs + " must be a multiple of " + pattern.m() + " for " + pattern);
        }
        double damp = args.number("damp", 0.01, 0, Double.POSITIVE_INFINITY);
        boolean global = args.has("global");
        if (global && (m != LayerwisePruner.Method.MAGNITUDE || pattern != null)) {
            throw new UsageException("--global applies to unstructured magnitude pruning only");
        }
        return new LayerwisePruner.Settings(m, sparsity, pattern, bs, damp, global);
    }

    /**
     * (samples, seqLen) calibration tokens: BOS-first windows (--calib self, random or a text for the
     * layer-wise methods), or a text's consecutive chunks without BOS for 2ssp/width/depth (their
     * reference protocol).
     */
    private static Calibration calibration(CompressionRun run, Args args, LlamaModel model, Tokenizer tok, boolean structured,
                                           int defaultSamples) throws IOException {
        String source = args.string("calib", "self");
        if (!structured || source.equals("self") || source.equals("random")) {
            return run.calibration(model, tok, defaultSamples);
        }
        int samples = args.integer("samples", defaultSamples, 1);
        int seqLen = args.integer("seq-len", model.config().defaultSeqLen(), 2, model.config().maxPositions());
        Path file = Path.of(source);
        String text = Args.readText("--calib", file);
        int[] stream = tok.encode(text, false);
        int[][] chunks = run.stage("calibration", () -> {
            run.progress().stage("calibration from " + file + " (consecutive chunks, 2SSP protocol)", 0);
            return StructuredPruning.consecutiveChunks(stream, "--calib " + file, samples, seqLen);
        });
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("file", file.toString());
        info.put("samples", chunks.length);
        info.put("seq_len", seqLen);
        info.put("layout", "consecutive chunks, no BOS (2SSP protocol)");
        run.report().put("calibration", info);
        return run.recorded(new Calibration(chunks, new Calibration.Record(file.toString(), chunks.length, seqLen, 0, stream.length,
                (long) chunks.length * seqLen)));
    }

    /** Refuses an N:M pattern some block linear cannot take, naming the first such tensor. */
    private static void checkPattern(LlamaModel model, NmPattern pattern) {
        for (int l = 0; l < model.numLayers(); l++) {
            Layer layer = model.layer(l);
            for (Proj p : Proj.values()) {
                Linear lin = layer.linear(p);
                String tensor = p.weightName(l);
                if (lin != null) usage(() -> {
                    pattern.checkColumns(lin.inFeatures(), tensor);
                    return null;
                });
            }
        }
    }

    private static String runLayerwise(CompressionRun run, LlamaModel model, LayerwisePruner.Settings settings, String format,
                                       NmPattern pattern, Calibration calib, CheckpointWriter writer, Map<String, Object> provenance) {
        PrunedWeightsWriter sink = new PrunedWeightsWriter(model, writer,
                PrunedWeightsWriter.Storage.valueOf(format.toUpperCase(Locale.ROOT)), pattern);
        run.progress().stage(settings.method().id() + " " + (pattern == null ? "unstructured" : pattern.toString()), model.numLayers());
        LayerwisePruner.run(model, calib, settings, sink,
                (l, n, detail) -> run.progress().step(l + 1, "block" + (detail.isEmpty() ? "" : " (" + detail.strip() + ")")), null, run.resume());
        sink.finish(provenance);
        Map<String, Object> report = new LinkedHashMap<>();
        double achieved = (double) sink.zeros() / sink.weights();
        report.put("achieved_sparsity", achieved);
        report.put("pruned_weights", sink.zeros());
        report.put("block_linear_weights", sink.weights());
        report.put("stored_bytes_linears", sink.storedBytes().stored());
        report.put("dense_bytes_linears", sink.storedBytes().dense());
        run.report().put("sparsity", report);
        for (PrunedWeightsWriter.Matrix m : sink.matrices()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("tensor", m.tensor());
            row.put("sparsity", m.sparsity());
            run.report().layer(row);
        }
        return String.format(Locale.ROOT, "%d linears at sparsity %.2f%%", sink.matrices().size(), 100 * achieved);
    }

    private static String runStructured(CompressionRun run, String method, LlamaModel model, double sparsity, Calibration calibration,
                                        CheckpointWriter writer, Map<String, Object> provenance) {
        StructuredPruning.Kind kind = switch (method) {
            case "depth" -> StructuredPruning.Kind.DEPTH;
            case "width" -> StructuredPruning.Kind.WIDTH;
            default -> StructuredPruning.Kind.TWO_SSP;
        };
        Progress progress = run.progress();
        String unit = kind == StructuredPruning.Kind.DEPTH ? "block" : "attention";
        StructuredPruning.Result r = StructuredPruning.run(model, calibration, kind, sparsity, new StructuredPruning.Listener() {
            @Override
            public void planned(StructuredPruning.Plan p) {
                if (kind != StructuredPruning.Kind.DEPTH) {
                    progress.note(String.format(Locale.ROOT, "%s: keep %d of %d FFN neurons per block, remove %d attention submodules",
                            method, p.keptNeurons(), p.intermediateSize(), p.modulesToRemove()));
                    progress.stage(method + " stage 1: FFN neuron scores", 0);
                } else {
                    progress.stage("depth: greedy block removal", 0);
                }
            }

            @Override
            public void neuronsScored(int done, int total) {
                progress.tick(done, total, "sequences scored", "");
                if (done == total && kind == StructuredPruning.Kind.TWO_SSP) progress.stage(method + " stage 2: attention removal", 0);
            }

            @Override
            public void candidateScored(StructuredPruning.Candidate c) {
                progress.tick(c.done(), c.total(), "candidates", String.format(Locale.ROOT, "round %d/%d: without %s %d perplexity %.3f",
                        c.round(), c.rounds(), unit, c.module(), c.perplexity()));
            }
        }, run.arena(), run.resume());
        StructuredPruning.write(model, r, writer, provenance);
        Map<String, Object> details = new LinkedHashMap<>();
        if (kind == StructuredPruning.Kind.DEPTH) {
            details.put("blocks_removed", r.blocksRemoved());
            details.put("calibration_ppl_per_round", r.calibrationPerplexity());
        } else {
            details.put("attention_params", r.counts().attention());
            details.put("mlp_params", r.counts().mlp());
            details.put("formula_attention_to_remove", (long) r.balance().attentionToRemove());
            details.put("formula_kept_neurons", (long) r.balance().keptNeurons());
            details.put("formula_sparsity", r.formulaSparsity());
            details.put("attention_removed", r.attentionRemoved());
            if (!r.attentionRemoved().isEmpty()) details.put("calibration_ppl_per_round", r.calibrationPerplexity());
            details.put("kept_neurons", (long) r.keptNeurons());
        }
        details.put("main_params", r.mainParamsBefore());
        details.put("main_params_after", r.mainParamsAfter());
        details.put("target_sparsity", sparsity);
        details.put("achieved_sparsity", r.achievedSparsity());
        run.report().put("sparsity", details);
        String removed = kind == StructuredPruning.Kind.DEPTH ? "blocks " + r.blocksRemoved() + " removed"
                : String.format(Locale.ROOT, "%d of %d FFN neurons kept, attention %s removed", r.keptNeurons(), r.intermediateSize(), r.attentionRemoved());
        return String.format(Locale.ROOT, "%s, %,d → %,d block parameters (sparsity %.4f, target %.4f)",
                removed, r.mainParamsBefore(), r.mainParamsAfter(), r.achievedSparsity(), sparsity);
    }

    /** A library's refusal of a flag's value (ShrinkException, IllegalArgumentException) as a usage error. */
    private static <T> T usage(java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (ShrinkException | IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
