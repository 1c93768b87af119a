package dev.shrink4j.cli;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Proj;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.prune.CalibrationNll;
import dev.shrink4j.prune.DepthPruning;
import dev.shrink4j.prune.GreedyRemoval;
import dev.shrink4j.prune.LayerwisePruner;
import dev.shrink4j.prune.NmPattern;
import dev.shrink4j.prune.PrunedCheckpoint;
import dev.shrink4j.prune.SparsityTarget;
import dev.shrink4j.prune.TwoSsp;
import dev.shrink4j.prune.TwoSspBalance;
import dev.shrink4j.prune.WidthPruning;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code shrink4j prune}: magnitude, Wanda, SparseGPT (unstructured or N:M, stored as CSR / N:M or
 * dense with zeros), 2SSP structured pruning (a smaller dense checkpoint), and the width-only and
 * depth (whole-block) baselines.
 */
final class PruneCommand implements Command {
    private static final List<String> METHODS = List.of("magnitude", "wanda", "sparsegpt", "2ssp", "width", "depth");

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

                Methods (METHODS.md): magnitude §2.4 (no data), wanda §2.5, sparsegpt §2.6 — every block linear
                pruned to --sparsity (or the N:M --pattern); 2ssp §5 — FFN width by activation norms, then
                attention submodules by calibration perplexity, written as a smaller dense model. Baselines:
                width (FFN width only, same parameter count as 2ssp) and depth (whole blocks, greedy by
                calibration perplexity, the nearest reachable sparsity).
                Calibration: wanda/sparsegpt draw --samples windows of --seq-len tokens (BOS first) at seeded random
                offsets; 2ssp/width/depth cut the text (no BOS) into consecutive chunks as the 2SSP reference does.
                Example: shrink4j prune --method sparsegpt --pattern 2:4 --calib c4.txt IN OUT
                """;
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("method").hasArg().argName("M").desc(String.join("|", METHODS) + " (required)").build());
        o.addOption(Option.builder().longOpt("sparsity").hasArg().argName("S").desc("fraction of weights removed, in [0, 1) (0.5 or 50%)").build());
        o.addOption(Option.builder().longOpt("pattern").hasArg().argName("P").desc("unstructured (default), 2:4 or 4:8 (keep N of every M)").build());
        o.addOption(Option.builder().longOpt("calib").hasArg().argName("FILE|self").desc("calibration text, or self for the model's own seeded generations (wanda, sparsegpt, 2ssp, width, depth)").build());
        o.addOption(Option.builder().longOpt("seed").hasArg().argName("N").desc("seed of the calibration windows (default 0)").build());
        o.addOption(Option.builder().longOpt("samples").hasArg().argName("N").desc("calibration sequences (default 128; 32 for 2ssp/width, 1 for depth)").build());
        o.addOption(Option.builder().longOpt("seq-len").hasArg().argName("T").desc("calibration sequence length (default min(2048, max_position_embeddings))").build());
        o.addOption(Option.builder().longOpt("format").hasArg().argName("F").desc("auto (csr for unstructured, nm for N:M), csr, nm or dense (zeros stored)").build());
        o.addOption(Option.builder().longOpt("global").desc("magnitude: one threshold over all block linears instead of per matrix").build());
        o.addOption(Option.builder().longOpt("block-size").hasArg().argName("B").desc("SparseGPT column block (default 128)").build());
        o.addOption(Option.builder().longOpt("damp").hasArg().argName("D").desc("SparseGPT relative damping δ (default 0.01)").build());
        o.addOption(Option.builder().longOpt("eval").hasArg().argName("FILE").desc("report perplexity before and after on this text (§9.2 windows); repeatable").build());
        o.addOption(Option.builder().longOpt("eval-windows").hasArg().argName("N").desc("evaluate the first N windows only").build());
        o.addOption(Option.builder().longOpt("report").hasArg().argName("DIR").desc("write report.json and report.md here").build());
        o.addOption(Option.builder().longOpt("force").desc("replace OUT if it exists").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) throws Exception {
        List<String> args = cl.getArgList();
        if (args.size() != 2) {
            throw new UsageException("expected IN and OUT, got " + args.size() + " arguments");
        }
        Path in = Path.of(args.get(0));
        Path out = Path.of(args.get(1));
        String method = cl.getOptionValue("method");
        if (method == null || !METHODS.contains(method.toLowerCase(Locale.ROOT))) {
            throw new UsageException("--method: expected one of " + String.join(", ", METHODS) + ", got " + (method == null ? "nothing" : "'" + method + "'"));
        }
        method = method.toLowerCase(Locale.ROOT);
        boolean structured = method.equals("2ssp") || method.equals("width") || method.equals("depth");
        NmPattern pattern = NmPattern.parse(cl.getOptionValue("pattern", "unstructured"), "--pattern");
        if (structured && pattern != null) {
            throw new UsageException("--pattern " + pattern + " applies to magnitude, wanda and sparsegpt, not " + method);
        }
        double sparsity;
        if (pattern != null) {
            if (cl.hasOption("sparsity") && Math.abs(PruneSupport.doubleOption(cl, "sparsity", 0) - pattern.sparsity()) > 1e-9) {
                throw new UsageException("--pattern " + pattern + " removes exactly " + pattern.sparsity() + "; drop --sparsity or make it match");
            }
            sparsity = pattern.sparsity();
        } else {
            if (!cl.hasOption("sparsity")) {
                throw new UsageException("--sparsity is required (or an N:M --pattern)");
            }
            sparsity = SparsityTarget.check(PruneSupport.doubleOption(cl, "sparsity", 0), "--sparsity");
        }
        if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new UsageException("OUT must differ from IN (the input is never modified)");
        }
        if (Files.exists(out) && !cl.hasOption("force")) {
            throw new ShrinkException(out + ": output already exists (use --force to replace it)");
        }
        boolean needsCalib = !method.equals("magnitude");
        Path calib = cl.hasOption("calib") ? Path.of(cl.getOptionValue("calib")) : null;
        if (needsCalib && calib == null) {
            throw new UsageException("--method " + method + " needs --calib FILE (calibration text)");
        }
        String format = cl.getOptionValue("format", "auto").toLowerCase(Locale.ROOT);
        if (!List.of("auto", "csr", "nm", "dense").contains(format)) {
            throw new UsageException("--format: expected auto, csr, nm or dense, got '" + format + "'");
        }
        if (structured && !format.equals("auto") && !format.equals("dense")) {
            throw new UsageException("--format " + format + ": " + method + " writes a smaller dense checkpoint");
        }
        if (format.equals("auto")) {
            format = structured ? "dense" : pattern != null ? "nm" : "csr";
        }
        if (format.equals("nm") && pattern == null) {
            throw new UsageException("--format nm needs an N:M --pattern");
        }

        Map<String, Object> report = new LinkedHashMap<>();
        long t0 = System.nanoTime();

        dev.shrink4j.model.CheckpointConfig.requireDense(in, "prune");
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(in, arena);
            int seqLen = PruneSupport.intOption(cl, "seq-len", Math.min(2048, model.config().maxPositions()));
            int defaultSamples = method.equals("depth") ? 1 : structured ? 32 : 128;
            int samples = PruneSupport.intOption(cl, "samples", defaultSamples);
            if (pattern != null) {
                checkPattern(model, pattern);
            }
            Tokenizer tok = needsCalib || cl.hasOption("eval") ? PruneSupport.tokenizer(model) : null;
            long seed = PruneSupport.seed(cl);
            int[] calTokens = null;
            if (needsCalib) {
                boolean self = calib.toString().equals("self");
                if (structured && !self) {
                    calTokens = PruneSupport.calibration(tok, calib, samples, seqLen);
                } else {
                    Calibration c = Calibration.fromSource(calib.toString(), model, tok, samples, seqLen, seed);
                    calTokens = new int[c.sequences().length * seqLen];
                    for (int i = 0; i < c.sequences().length; i++) {
                        System.arraycopy(c.sequences()[i], 0, calTokens, i * seqLen, seqLen);
                    }
                }
            }
            int calSamples = needsCalib ? calTokens.length / seqLen : 0;
            List<Path> evalFiles = cl.hasOption("eval") ? java.util.Arrays.stream(cl.getOptionValues("eval")).map(Path::of).toList() : List.of();
            List<int[]> evalStreams = new ArrayList<>();
            int evalLen = seqLen;
            int maxWindows = PruneSupport.intOption(cl, "eval-windows", Integer.MAX_VALUE);
            List<Object> evals = new ArrayList<>();
            for (Path ef : evalFiles) {
                int[] stream = tok.encode(PruneSupport.readText(ef, "--eval"), false);
                evalStreams.add(stream);
                Perplexity.Result before = Perplexity.evaluate(model, stream, evalLen, maxWindows, null);
                Map<String, Object> e = evalEntry(ef, before);
                evals.add(e);
                console.err().printf(Locale.ROOT, "dense: NLL %.4f, perplexity %.3f on %d windows of %s%n", before.nll(), before.ppl(), before.windows(), ef);
            }
            if (!evals.isEmpty()) {
                report.put("eval", evals);
            }
            Map<String, Object> provenance = new LinkedHashMap<>();
            provenance.put("method", method);
            provenance.put("sparsity", sparsity);
            if (!structured) {
                provenance.put("pattern", pattern == null ? "unstructured" : pattern.toString());
            }
            if (needsCalib) {
                provenance.put("calibration", Map.of("file", calib.toString(), "samples", (long) calSamples, "seq_len", (long) seqLen,
                        "seed", seed, "layout", structured && !calib.toString().equals("self")
                                ? "consecutive chunks, no BOS (2SSP protocol)" : "seeded random windows, BOS first"));
            }
            provenance.put("tool_version", Main.VERSION);
            report.put("input", in.toString());
            report.put("output", out.toString());
            report.put("settings", provenance);

            try (CheckpointWriter writer = CheckpointWriter.create(out, CheckpointWriter.Options.defaults().withForce(cl.hasOption("force")))) {
                if (structured) {
                    runStructured(method, model, sparsity, calTokens, calSamples, seqLen, writer, provenance, report, console, arena);
                } else {
                    runLayerwise(method, model, sparsity, pattern, format, calTokens, calSamples, seqLen, cl, writer,
                            provenance, report, console);
                }
                PrunedCheckpoint.copySideFiles(in, writer);
                writer.commit();
            }
            // the evaluation reads the written checkpoint back (CSR / N:M through the runtime's compressed linears)
            try (Arena back = Arena.ofShared()) {
                LlamaModel pruned = evalFiles.isEmpty() ? null : LlamaModel.load(out, back);
                for (int i = 0; i < evalFiles.size(); i++) {
                    Perplexity.Result after = Perplexity.evaluate(pruned, evalStreams.get(i), evalLen, maxWindows, null);
                    @SuppressWarnings("unchecked")
                    Map<String, Object> e = (Map<String, Object>) evals.get(i);
                    e.put("nll_after", after.nll());
                    e.put("ppl_after", after.ppl());
                    e.put("delta_nll", after.nll() - (Double) e.get("nll"));
                    console.err().printf(Locale.ROOT, "pruned: NLL %.4f, perplexity %.3f on %s (ΔNLL %+.4f)%n", after.nll(), after.ppl(),
                            evalFiles.get(i), after.nll() - (Double) e.get("nll"));
                }
            }
        }
        report.put("seconds", PruneSupport.seconds(t0));
        console.out().printf(Locale.ROOT, "wrote %s (%s, %s) in %.1f s%n", out, method, summaryLine(report), PruneSupport.seconds(t0));
        if (cl.hasOption("report")) {
            PruneSupport.writeReport(Path.of(cl.getOptionValue("report")), report, markdown(report));
        }
        return 0;
    }

    private static Map<String, Object> evalEntry(Path file, Perplexity.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", file.toString());
        m.put("windows", (long) r.windows());
        m.put("seq_len", (long) r.seqLen());
        m.put("tokens", r.tokens());
        m.put("bos", "prepended");
        m.put("nll", r.nll());
        m.put("ppl", r.ppl());
        return m;
    }

    /** Refuses an N:M pattern some block linear cannot take, naming the first such tensor. */
    private static void checkPattern(LlamaModel model, NmPattern pattern) {
        for (int l = 0; l < model.numLayers(); l++) {
            Layer layer = model.layer(l);
            for (Proj p : Proj.values()) {
                Linear lin = layer.linear(p);
                if (lin != null) {
                    pattern.checkColumns(lin.inFeatures(), p.weightName(l));
                }
            }
        }
    }

    private static void runLayerwise(String method, LlamaModel model, double sparsity, NmPattern pattern, String format,
                                     int[] cal, int samples, int seqLen, CommandLine cl, CheckpointWriter writer,
                                     Map<String, Object> provenance, Map<String, Object> report, Console console) {
        LayerwisePruner.Method m = LayerwisePruner.Method.valueOf(method.toUpperCase(Locale.ROOT));
        int bs = PruneSupport.intOption(cl, "block-size", dev.shrink4j.prune.SparseGpt.BLOCK_SIZE);
        if (pattern != null && bs % pattern.m() != 0) {
            throw new UsageException("--block-size " + bs + " must be a multiple of " + pattern.m() + " for " + pattern);
        }
        double damp = PruneSupport.doubleOption(cl, "damp", 0.01);
        boolean global = cl.hasOption("global");
        if (global && (m != LayerwisePruner.Method.MAGNITUDE || pattern != null)) {
            throw new UsageException("--global applies to unstructured magnitude pruning only");
        }
        if (m == LayerwisePruner.Method.MAGNITUDE) {
            provenance.put("threshold", global ? "global" : "per matrix");
        }
        LayerwisePruner.Settings s = new LayerwisePruner.Settings(m, sparsity, pattern, bs, damp, global);
        PruneWeightSink sink = new PruneWeightSink(model, writer, format, pattern);
        long[] totals = new long[2];
        List<Object> layers = new ArrayList<>();
        LayerwisePruner.run(model, cal, samples, seqLen, s, (l, p, w, dOut, dIn) -> {
            long z = sink.write(l, p, w, dOut, dIn);
            totals[0] += z;
            totals[1] += w.length;
            layers.add(Map.of("tensor", p.weightName(l), "sparsity", (double) z / w.length));
        }, (l, n, detail) -> console.err().printf(Locale.ROOT, "[%d/%d] block %d pruned%s%n", l + 1, n, l, detail));
        PrunedCheckpoint.copyRest(model, writer, sink.written());
        Map<String, Object> config = PrunedCheckpoint.readConfig(model.weights().directory());
        Map<String, Object> sh = PrunedCheckpoint.shrink4jBlock(config);
        if (!sink.descriptors().isEmpty()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> tensors = (Map<String, Object>) sh.computeIfAbsent("tensors", k -> new LinkedHashMap<>());
            tensors.putAll(sink.descriptors());
        }
        provenance.put("format", format);
        sh.put("provenance", provenance);
        writer.writeFile("config.json", dev.shrink4j.model.CheckpointConfig.toJson(config));
        report.put("achieved_sparsity", (double) totals[0] / totals[1]);
        report.put("pruned_weights", totals[0]);
        report.put("block_linear_weights", totals[1]);
        report.put("stored_bytes_linears", sink.bytes());
        report.put("dense_bytes_linears", sink.denseBytes());
        report.put("matrices", layers);
    }

    /** Runs 2SSP, width or depth pruning; returns the blocks removed entirely (depth). */
    private static Set<Integer> runStructured(String method, LlamaModel model, double sparsity, int[] cal, int samples, int seqLen,
                                      CheckpointWriter writer, Map<String, Object> provenance, Map<String, Object> report,
                                      Console console, Arena arena) {
        TwoSsp.Counts counts = TwoSsp.Counts.of(model);
        int layers = model.numLayers();
        int dff = model.layer(0).intermediateSize();
        int[] keepBlocks = null;
        Map<String, Object> details = new LinkedHashMap<>();
        if (method.equals("depth")) {
            int count = DepthPruning.blocksFor(sparsity, layers);
            if (count >= layers) {
                throw new ShrinkException("depth pruning cannot remove all " + layers + " blocks");
            }
            List<GreedyRemoval.Step> steps = DepthPruning.run(model, cal, samples, seqLen, count,
                    (r, m, ppl) -> console.err().printf(Locale.ROOT, "round %d: without block %d perplexity %.3f%n", r + 1, m, ppl));
            keepBlocks = DepthPruning.kept(layers, steps);
            details.put("blocks_removed", steps.stream().map(GreedyRemoval.Step::removed).toList());
            details.put("calibration_ppl_per_round", steps.stream().map(GreedyRemoval.Step::score).toList());
        } else {
            TwoSspBalance b = TwoSspBalance.compute(layers, counts.attention(), counts.mlp(), counts.main(), dff, sparsity);
            int kept = b.keptNeurons();
            int nAttn = b.attentionToRemove();
            if (method.equals("width")) {
                // same parameter count as 2SSP, all of it from FFN width
                double removed = b.formulaSparsity() * counts.main();
                kept = (int) Math.rint(dff - removed / layers / ((double) counts.mlp() / dff));
                if (kept < 1) {
                    throw new ShrinkException(String.format(Locale.ROOT, "width-only pruning cannot reach sparsity %.4f", sparsity));
                }
                nAttn = 0;
            }
            details.put("attention_params", counts.attention());
            details.put("mlp_params", counts.mlp());
            details.put("main_params", counts.main());
            details.put("formula_attention_to_remove", (long) b.attentionToRemove());
            details.put("formula_kept_neurons", (long) b.keptNeurons());
            details.put("formula_sparsity", b.formulaSparsity());
            console.err().printf(Locale.ROOT, "%s: keep %d of %d FFN neurons per block, remove %d attention submodules%n", method, kept, dff, nAttn);
            WidthPruning[] scores = TwoSsp.scoreNeurons(model, cal, samples, seqLen, Math.max(1, Math.min(samples, 8)));
            for (int l = 0; l < layers; l++) {
                TwoSsp.keepNeurons(model, l, scores[l].keep(kept), arena);
            }
            console.err().println("stage 1 done: FFN width pruned");
            if (nAttn > 0) {
                List<GreedyRemoval.Step> steps = TwoSsp.removeAttention(model, java.util.Arrays.copyOf(cal, seqLen), seqLen, nAttn,
                        (r, m, ppl) -> console.err().printf(Locale.ROOT, "round %d: without attention %d perplexity %.3f%n", r + 1, m, ppl));
                details.put("attention_removed", steps.stream().map(GreedyRemoval.Step::removed).toList());
                details.put("calibration_ppl_per_round", steps.stream().map(GreedyRemoval.Step::score).toList());
            } else {
                details.put("attention_removed", List.of());
            }
            details.put("kept_neurons", (long) kept);
        }
        DType dtype = model.layer(0).linear(Proj.GATE).weight(arena).dtype();
        PrunedCheckpoint.writeStructured(model, keepBlocks, dtype, writer, provenance);
        long after = 0;
        int[] blocks = keepBlocks != null ? keepBlocks : java.util.stream.IntStream.range(0, layers).toArray();
        for (int l : blocks) {
            Layer layer = model.layer(l);
            for (Linear lin : layer.linears().values()) {
                after += (long) lin.inFeatures() * lin.outFeatures() + (lin.bias() == null ? 0 : lin.bias().length);
            }
            after += layer.hasAttention() ? counts.norms() : counts.norms() / 2;
        }
        details.put("main_params_after", after);
        double achieved = 1.0 - (double) after / counts.main();
        report.put("target_sparsity", sparsity);
        report.put("achieved_sparsity", achieved);
        report.put(method, details);
        console.err().printf(Locale.ROOT, "achieved parameter sparsity %.4f of the block parameters (target %.4f)%n", achieved, sparsity);
        Set<Integer> removed = new HashSet<>();
        for (int l = 0; l < layers; l++) {
            removed.add(l);
        }
        for (int l : blocks) {
            removed.remove(l);
        }
        return removed;
    }

    private static String summaryLine(Map<String, Object> report) {
        Object a = report.get("achieved_sparsity");
        return a == null ? "" : String.format(Locale.ROOT, "achieved sparsity %.2f%%", 100 * (Double) a);
    }

    @SuppressWarnings("unchecked")
    private static String markdown(Map<String, Object> r) {
        StringBuilder sb = new StringBuilder("# shrink4j prune\n\n");
        sb.append("- input: ").append(r.get("input")).append("\n- output: ").append(r.get("output")).append('\n');
        ((Map<String, Object>) r.get("settings")).forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v).append('\n'));
        if (r.containsKey("target_sparsity")) {
            sb.append(String.format(Locale.ROOT, "- target sparsity: %.4f%n", (Double) r.get("target_sparsity")));
        }
        sb.append(String.format(Locale.ROOT, "- achieved sparsity: %.4f%n", (Double) r.get("achieved_sparsity")));
        for (String k : List.of("2ssp", "width", "depth")) {
            if (r.get(k) instanceof Map<?, ?> d) {
                d.forEach((a, b) -> sb.append("- ").append(a).append(": ").append(b).append('\n'));
            }
        }
        if (r.get("eval") instanceof List<?> evals) {
            sb.append("\n| text | windows × T | NLL before | NLL after | ΔNLL | ppl before | ppl after |\n|---|---|---|---|---|---|---|\n");
            for (Object o : evals) {
                Map<String, Object> e = (Map<String, Object>) o;
                sb.append(String.format(Locale.ROOT, "| %s | %d × %d | %.4f | %.4f | %+.4f | %.3f | %.3f |%n", e.get("text"), e.get("windows"),
                        e.get("seq_len"), e.get("nll"), e.get("nll_after"), e.get("delta_nll"), e.get("ppl"), e.get("ppl_after")));
            }
            sb.append("\nBOS prepended to every window (METHODS §9.2).\n");
        }
        if (r.get("matrices") instanceof List<?> ms) {
            sb.append("\n| tensor | sparsity |\n|---|---|\n");
            for (Object o : ms) {
                Map<String, Object> m = (Map<String, Object>) o;
                sb.append(String.format(Locale.ROOT, "| %s | %.2f%% |%n", m.get("tensor"), 100 * (Double) m.get("sparsity")));
            }
        }
        sb.append(String.format(Locale.ROOT, "%nTime: %.1f s%n", (Double) r.get("seconds")));
        return sb.toString();
    }
}
