package dev.shrink4j.cli;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.gguf.LlamaGgufExport;
import dev.shrink4j.quantize.CompressedTensorsExport;
import dev.shrink4j.quantize.HeadOptions;
import dev.shrink4j.quantize.HeadQuantizer;
import dev.shrink4j.quantize.ModuleOverrides;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.quantize.OutputFormat;
import dev.shrink4j.quantize.QuantMethod;
import dev.shrink4j.quantize.QuantizeOptions;
import dev.shrink4j.quantize.QuantizedCheckpoint;
import dev.shrink4j.quantize.QuantizedCheckpointWriter;
import dev.shrink4j.quantize.Quantizer;
import dev.shrink4j.quantize.ReQuant;
import dev.shrink4j.quantize.ReQuantOptions;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code shrink4j quantize}: RTN, GPTQ, SqueezeLLM, LNQ, GuidedQuant (+LNQ) and guided GPTQ
 * (docs/methods/rtn-gptq.md, squeezellm.md, guidedquant-lnq.md) over a checkpoint, block by block, written as {@code shrink4j}, {@code dense} or
 * {@code jlama-q4}, with quality before/after and an optional report directory.
 */
final class QuantizeCommand implements Command {
    static final int DEFAULT_SAMPLES = 128;
    static final List<String> METHODS = List.of("rtn", "gptq", "squeezellm", "lnq", "guidedquant", "guided-gptq", "requant");
    /** ReQuant's bases (docs/methods/pqi-requant.md §3 step 1). */
    static final List<String> BASES = List.of("squeezellm", "rtn", "gptq", "lnq", "guidedquant");
    /** Flags that only ReQuant reads. */
    private static final List<String> REQUANT_FLAGS = List.of("base", "outlier-ratio", "significant-ratio", "outlier-allocation", "pqi-points");
    static final List<String> FORMATS = List.of("shrink4j", "dense", "jlama-q4", "gguf", "compressed-tensors");

    @Override
    public String name() {
        return "quantize";
    }

    @Override
    public String summary() {
        return "quantize a checkpoint (rtn, gptq, squeezellm, lnq, guidedquant, guided-gptq, requant)";
    }

    @Override
    public String arguments() {
        return "IN OUT";
    }

    @Override
    public String footer() {
        return """

                Methods (notes in docs/methods/): rtn (rtn-gptq.md §1); gptq (rtn-gptq.md §2: act-order, static
                groups); squeezellm (squeezellm.md: Fisher-weighted k-means, per-row LUT); lnq (guidedquant-lnq.md §5:
                SqueezeLLM init + coordinate descent); guidedquant (guidedquant-lnq.md §1–§5: LNQ on end-loss-guided
                Hessians, the default); guided-gptq (GPTQ on the guided Hessians); requant (pqi-requant.md: --base
                quantized without its outliers, outliers chosen per layer by --outlier-allocation, then the weights with the
                largest post-quantization integral detached step by step; dense + one CSR per linear; r_o 0.45 %, r_s 0.05 %).
                Uniform methods are asymmetric with group size 128 unless --sym / --group-size; LUT methods keep one
                2^b-entry codebook per row (per G input columns with --lut-group G). Without --calib the model's own seeded generations calibrate it (rtn needs none: it is data-free); without
                --eval its generations (another seed) measure the change. jlama-q4 defaults to --sym --group-size 32.
                Example: shrink4j quantize --method gptq --bits 4 examples/stories260K /tmp/stories-gptq4""";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("method").hasArg().argName("M").desc("rtn|gptq|squeezellm|lnq|guidedquant|guided-gptq (default guidedquant)").build());
        o.addOption(Option.builder().longOpt("bits").hasArg().argName("B").desc("2, 3, 4 or 8 (default 4)").build());
        o.addOption(Option.builder().longOpt("group-size").hasArg().argName("G").desc("uniform methods: columns per scale/zero (default 128)").build());
        o.addOption(Option.builder().longOpt("sym").desc("uniform methods: symmetric grid, no zero points").build());
        o.addOption(Option.builder().longOpt("stats-cache").hasArg().argName("DIR").desc("squeezellm, lnq, guidedquant, guided-gptq: keep the gradient-pass statistics (Fisher, saliencies) and, for squeezellm, lnq and guidedquant, every block's Hessians (H or guided H_k, F64 upper triangles; TinyLlama-1.1B: 3.6 GiB plain, 18.7 GiB guided g=4) in DIR keyed by model + calibration tokens + guided groups, and reuse them, e.g. across --bits: a fully cached run skips the backward and all block forwards and writes the same bytes").build());
        o.addOption(Option.builder().longOpt("lut-group").hasArg().argName("G").desc("LUT methods (squeezellm, lnq, guidedquant): one 2^b-entry codebook per G input columns of a row instead of per row; G >= 2^b").build());
        o.addOption(Option.builder().longOpt("guided-groups").hasArg().argName("g").desc("GuidedQuant output-channel groups (default 4 where d_out allows, else 1)").build());
        o.addOption(Option.builder().longOpt("base").hasArg().argName("M").desc("requant: squeezellm|rtn|gptq|lnq|guidedquant (default squeezellm)").build());
        o.addOption(Option.builder().longOpt("outlier-ratio").hasArg().argName("r_o").desc("requant: share of weights kept as outliers, in [0, 0.5) (default 0.45%)").build());
        o.addOption(Option.builder().longOpt("significant-ratio").hasArg().argName("r_s").desc("requant: share detached by PQI, in [0, 0.5) (default 0.05%; two steps of r_s/2)").build());
        o.addOption(Option.builder().longOpt("outlier-allocation").hasArg().argName("A").desc("requant: adaptive|uniform (default adaptive)").build());
        o.addOption(Option.builder().longOpt("pqi-points").hasArg().argName("N").desc("requant: PQI path points per detach step (default 8)").build());
        o.addOption(Option.builder().longOpt("override").hasArg().argName("REGEX=SETTINGS")
                .desc("per-module settings (repeatable, later ones refine earlier): modules whose name matches REGEX are kept unquantized (REGEX=skip) or get bits:B, group_size:G, method:M, e.g. 'mlp\\.down_proj=bits:8' (shrink4j and dense formats; docs/recipes.md)").build());
        o.addOption(Option.builder().longOpt("target-bpw").hasArg().argName("B")
                .desc("uniform methods: choose 2, 3, 4 or 8 bits per module so the block linears store at most B bits/weight, from each module's Fisher-weighted error at each width (docs/recipes.md)").build());
        o.addOption(Option.builder().longOpt("head-bits").hasArg().argName("B")
                .desc("also quantize the output head lm_head: 4 or 8 bits, symmetric RTN (data-free whatever --method; docs/quantize.md)").build());
        o.addOption(Option.builder().longOpt("quantize-embeddings").hasArg().argName("B")
                .desc("also quantize the token embeddings model.embed_tokens: 4 or 8 bits, symmetric RTN; rows are decoded one by one at run time."
                        + " With tied embeddings one table serves both: give one width").build());
        o.addOption(Option.builder().longOpt("head-group-size").hasArg().argName("G")
                .desc("--head-bits, --quantize-embeddings: columns per scale along each row (default 32: Q8_0/Q4_0 blocks in --format gguf)").build());
        o.addOption(Option.builder().longOpt("format").hasArg().argName("F").desc("shrink4j|dense|jlama-q4|gguf|compressed-tensors (default shrink4j)").build());
        CompressionRun.addOptions(o, DEFAULT_SAMPLES, "rtn needs none");
        return o;
    }

    /** Formats an earlier stage writes whose structure quantize keeps (docs/recipes.md "What composes"). */
    static final java.util.Set<String> STRUCTURED = java.util.Set.of("nm", "low_rank", "low_rank_column_sparse", "lost_silu");

    /**
     * An N:M-sparse or low-rank IN is quantized in place (kept values, factors) by rtn or gptq into the
     * shrink4j format (or densified by dense); anything else has no form for it, refused before any work.
     */
    private static void checkStructuredInput(Path in, OutputFormat format, QuantizeOptions qo, ReQuantOptions rq, double targetBpw) {
        var structured = dev.shrink4j.model.ModelConfig.load(in).compressedTensors().entrySet().stream()
                .filter(e -> STRUCTURED.contains(String.valueOf(e.getValue().get("format")))).findFirst();
        if (structured.isEmpty()) return;
        String what = "IN " + in + " stores " + structured.get().getKey() + " as " + structured.get().getValue().get("format")
                + " (N:M-sparse or low-rank layers, whose structure quantize keeps)";
        if (format != OutputFormat.SHRINK4J && format != OutputFormat.DENSE) {
            throw new UsageException(what + ": --format " + format.cliName() + " cannot hold it; use --format shrink4j");
        }
        if (rq != null || (qo.method() != QuantMethod.RTN && qo.method() != QuantMethod.GPTQ)) {
            throw new UsageException(what + ": --method " + (rq != null ? "requant" : qo.method().cliName()) + " is not built for it; use rtn or gptq");
        }
        if (!Double.isNaN(targetBpw)) throw new UsageException(what + ": --target-bpw is not built for it; give --bits");
    }

    @Override
    public int run(CommandLine cl, Console console) throws Exception {
        Args args = new Args(cl);
        List<String> paths = args.positionals("IN", "OUT");
        OutputFormat format = OutputFormat.parse(args.choice("format", "shrink4j", FORMATS));
        QuantizeOptions qo = options(args, format);
        ReQuantOptions rq = requantOptions(args, qo, format);
        HeadOptions ho = headOptions(args, format);
        ModuleOverrides userOverrides = QuantizeOverrides.overrides(args, qo, rq, format);
        double targetBpw = QuantizeOverrides.targetBpw(args, qo, rq, format);
        Path in = Args.inputDir("IN", Path.of(paths.get(0)));
        Path out = args.output(in, paths.get(1));
        if (format == OutputFormat.COMPRESSED_TENSORS && dev.shrink4j.model.ModelConfig.load(in).compressedTensors().values().stream().anyMatch(d -> "nm".equals(d.get("format")))) {
            throw new UsageException("IN " + in + " is N:M-sparse: compressed-tensors stores 2:4 + int4 only as marlin-24, which shrink4j does not write;"
                    + " write the sparse model itself with prune --pattern 2:4 --format compressed-tensors, or quantize to --format shrink4j");
        }
        checkStructuredInput(in, format, qo, rq, targetBpw);
        if (args.has("dry-run")) {
            DryRun.print("quantize", cl, in, console.out());
            return 0;
        }

        try (CompressionRun run = new CompressionRun("quantize", args, console, in, out)) {
            Progress progress = run.progress();
            Report report = run.report();
            LlamaModel model = run.loadInput(true);
            LlamaModel reference = LlamaModel.load(in, run.arena());
            QuantizeOverrides.warnUnmatched(userOverrides, model, console.err());
            // RTN is data-free (docs/methods/rtn-gptq.md §1): no calibration unless --calib asks for the layer objectives.
            boolean dataFree = rq == null && qo.method() == QuantMethod.RTN && !args.has("calib");
            // Synthetic checkpoints have no tokenizer: --calib random needs none (and --no-eval).
            Tokenizer tok = run.tokenizer(model, !dataFree);
            report.put("method", rq == null ? qo.method().cliName() : "requant");
            report.put("parameters", parameters(qo, rq, format));
            if (!userOverrides.isEmpty()) report.put("overrides", userOverrides.rules().stream().map(OverrideSpec::flag).toList());
            if (ho.any()) report.put("head", ho.provenance(reference.headTied()));
            Calibration calib = dataFree ? null : run.calibration(model, tok, DEFAULT_SAMPLES);
            if (dataFree) report.put("calibration", "none: rtn is data-free (--calib also measures the layer objectives)");
            EvalSupport eval = run.evaluation(model, tok);
            run.evalBefore(eval, reference);
            ModuleOverrides overrides = Double.isNaN(targetBpw) ? userOverrides : QuantizeOverrides.mixedPrecision(run, model, calib, qo, targetBpw);
            // shrink4j and dense outputs are streamed block by block (memory does not grow with depth);
            // jlama-q4 is written in one piece at the end.
            // requant keeps every linear until its PQI detach steps are done: written at the end too.
            boolean streamed = format != OutputFormat.JLAMA_Q4 && rq == null;
            boolean gguf = format == OutputFormat.GGUF;
            boolean ct = format == OutputFormat.COMPRESSED_TENSORS;
            // GGUF and compressed-tensors: the shrink4j checkpoint is streamed to a hidden staging sibling, then mapped.
            Path staging = gguf || ct ? out.toAbsolutePath().normalize().resolveSibling("." + out.getFileName() + ".staging-" + ProcessHandle.current().pid()) : out;
            Quantizer.Result result;
            List<String> notes = List.of();
            try (QuantizedCheckpointWriter writer = streamed
                    ? QuantizedCheckpointWriter.open(in, gguf || ct ? OutputFormat.SHRINK4J : format, staging, gguf || ct || args.has("force"), provenance(qo, rq, calib, overrides, ho, reference)) : null) {
                Quantizer quantizer = new Quantizer(qo, run.arena());
                quantizer.withOverrides(overrides);
                if (args.has("stats-cache")) quantizer.withStatisticsCache(Path.of(args.string("stats-cache", null)));
                quantizer.withResume(run.resume());
                if (streamed) quantizer.writingTo(writer::add);
                Quantizer.Listener listener = run.quantizerListener();
                if (rq == null) {
                    result = run.stage("quantize", () -> quantizer.run(model, calib, listener));
                } else {
                    // Its Fisher and PQI buffers (4 bytes per weight each) are mapped beside OUT, not in RssAnon,
                    // in a claimed directory that a killed run's successor removes.
                    ReQuant.Result rr;
                    try (ScratchDirectory scratch = ScratchDirectory.beside(out)) {
                        ReQuantOptions rqo = rq.withScratchDir(scratch.path());
                        rr = run.stage("requant", () -> new ReQuant(rqo, run.arena()).withResume(run.resume()).run(model, reference, calib, listener));
                    }
                    report.put("requant", requantSummary(rr));
                    result = rr.quantized();
                }
                Quantizer.Result r = result;
                // The head and embeddings: RTN from the input's tables, whatever the method (HeadQuantizer).
                Map<String, dev.shrink4j.tensors.formats.UniformQuantized> head = ho.any()
                        ? run.stage("quantize head", () -> HeadQuantizer.quantize(reference, ho, run.arena())) : Map.of();
                notes = run.stage("write " + format.cliName(), () -> {
                    progress.stage("write " + format.cliName() + " to " + out, 0);
                    if (streamed) head.forEach(writer::add);
                    if (gguf) {
                        writer.commit();
                        try {
                            return LlamaGgufExport.writeQuantized(in, staging, out, args.has("force"));
                        } finally {
                            deleteTree(staging);
                        }
                    }
                    if (ct) {
                        writer.commit(); // the staging checkpoint is evaluated below, then deleted
                        return CompressedTensorsExport.write(in, staging, out, args.has("force"));
                    }
                    if (streamed) {
                        writer.commit();
                        return List.<String>of();
                    }
                    Map<String, dev.shrink4j.tensors.formats.CompressedWeight> all = new LinkedHashMap<>(r.weights());
                    all.putAll(head);
                    return QuantizedCheckpoint.write(in, all, format, out, args.has("force"), provenance(qo, rq, calib, overrides, ho, reference));
                });
            }
            for (Quantizer.LayerReport r : result.layers()) report.layer(layerRow(r));
            Map<String, Object> bits = new LinkedHashMap<>();
            bits.put("quantized_parameters", result.parameters());
            bits.put("payload_bits_per_weight", result.payloadBitsPerWeight());
            bits.put("total_bits_per_weight", result.totalBitsPerWeight());
            report.put("bits", bits);
            if (!notes.isEmpty()) report.put("notes", notes);
            for (String n : notes) progress.note("note: " + n);
            // A streamed run evaluates what was written: the output checkpoint, memory-mapped.
            Path written = gguf ? GgufInput.asCheckpointDir("OUT", out) : out;
            // compressed-tensors has no reader here: the staging shrink4j checkpoint holds the same values.
            try {
                // (a requant output with a quantized head is read back too: the model in memory has the input's head)
                run.evalAfter(eval, streamed || ho.any() ? LlamaModel.load(ct ? staging : written, run.arena()) : model, reference);
            } finally {
                if (ct) deleteTree(staging);
            }
            run.finish(String.format(Locale.ROOT, "%s %s: %d linears%s, %.3f bits/weight (payload %.3f), written to %s (%s)",
                    rq == null ? qo.method().cliName() : "requant over " + qo.method().cliName(),
                    Double.isNaN(targetBpw) ? qo.bits() + "-bit" : "mixed precision (--target-bpw " + RecipeReader.scalarText(targetBpw) + ")", result.layers().size(), headSummary(ho, reference.headTied()), result.totalBitsPerWeight(),
                    result.payloadBitsPerWeight(), out, format.cliName()));
        }
        return 0;
    }

    static void deleteTree(Path p) {
        try (java.util.stream.Stream<Path> s = java.nio.file.Files.walk(p)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (java.io.IOException ignored) {
            // best effort: a hidden staging directory
        }
    }

    /** The head and embedding options; formats that cannot hold them refuse them. */
    static HeadOptions headOptions(Args args, OutputFormat format) {
        boolean any = args.has("head-bits") || args.has("quantize-embeddings");
        if (!any) {
            if (args.has("head-group-size")) throw new UsageException("--head-group-size applies with --head-bits or --quantize-embeddings");
            return HeadOptions.none();
        }
        String flag = args.has("head-bits") ? "--head-bits" : "--quantize-embeddings";
        if (format == OutputFormat.JLAMA_Q4 || format == OutputFormat.COMPRESSED_TENSORS) {
            throw new UsageException(flag + ": --format " + format.cliName() + " keeps the head and embeddings unquantized here;"
                    + " use --format shrink4j, dense or gguf");
        }
        int head = args.has("head-bits") ? args.integerChoice("head-bits", 8, HeadOptions.BITS) : 0;
        int embedding = args.has("quantize-embeddings") ? args.integerChoice("quantize-embeddings", 8, HeadOptions.BITS) : 0;
        int group = args.integer("head-group-size", HeadOptions.DEFAULT_GROUP_SIZE, 1);
        if (format == OutputFormat.GGUF && group != 32) {
            throw new UsageException("--format gguf maps the head and embeddings exactly with --head-group-size 32 (Q4_0/Q8_0), got " + group);
        }
        return new HeadOptions(head, embedding, group);
    }

    /** ", head int8" etc. for the final line. */
    private static String headSummary(HeadOptions o, boolean tied) {
        if (!o.any()) return "";
        if (tied) return " + tied head/embeddings int" + Math.max(o.headBits(), o.embeddingBits());
        return (o.headBits() != 0 ? " + head int" + o.headBits() : "") + (o.embeddingBits() != 0 ? " + embeddings int" + o.embeddingBits() : "");
    }

    static QuantizeOptions options(Args args, OutputFormat format) {
        String name = args.choice("method", "guidedquant", METHODS);
        if (name.equals("requant")) name = args.choice("base", "squeezellm", BASES);
        QuantMethod method = QuantMethod.parse(name);
        int bits = args.integerChoice("bits", 4, List.of(2, 3, 4, 8));
        boolean jlama = format == OutputFormat.JLAMA_Q4;
        boolean gguf = format == OutputFormat.GGUF;
        int group = args.integer("group-size", jlama || gguf ? 32 : 128, 1);
        if (format == OutputFormat.COMPRESSED_TENSORS && (!method.uniform() || bits != 4 && bits != 8)) {
            throw new UsageException("--format compressed-tensors (pack-quantized) takes int4 or int8: --bits 4|8 [--sym]"
                    + " with --method rtn|gptq|guided-gptq and a --group-size that divides d_in (got " + method.cliName() + ", " + bits + " bits"
                    + (args.has("sym") ? ", symmetric" : ", asymmetric") + ")");
        }
        if (gguf && (!method.uniform() || group != 32 || bits != 4 && bits != 8 || bits == 8 && !args.has("sym"))) {
            throw new UsageException("--format gguf maps exactly: --bits 4 --sym --group-size 32 (Q4_0), --bits 4 --group-size 32 (Q4_1),"
                    + " --bits 8 --sym --group-size 32 (Q8_0), with --method rtn|gptq|guided-gptq (got " + method.cliName() + ", "
                    + bits + " bits, group " + group + (args.has("sym") ? ", symmetric" : ", asymmetric") + ")");
        }
        boolean sym = args.has("sym") || jlama;
        CommandLine cl = args.commandLine();
        if (jlama && (!method.uniform() || bits != 4 || group % 32 != 0)) {
            throw new UsageException("--format jlama-q4 holds symmetric int4 in groups of a multiple of 32: use --method rtn|gptq|guided-gptq"
                    + " --bits 4 and a --group-size multiple of 32 (got " + method.cliName() + ", " + bits + " bits, group " + group + ")");
        }
        if (cl.hasOption("group-size") && !method.uniform()) {
            throw new UsageException("--group-size applies to uniform methods (rtn, gptq, guided-gptq); " + method.cliName() + " keeps one codebook per row");
        }
        QuantizeOptions o = QuantizeOptions.defaults(method, bits).withGroupSize(group).withSymmetric(sym);
        if (cl.hasOption("lut-group")) {
            if (method.uniform()) {
                throw new UsageException("--lut-group applies to the LUT methods (squeezellm, lnq, guidedquant); " + method.cliName() + " uses --group-size");
            }
            int lutGroup = args.integer("lut-group", 0, 1);
            if (lutGroup < (1 << bits)) {
                throw new UsageException("--lut-group " + lutGroup + " must be at least 2^bits = " + (1 << bits) + " (one codebook per group)");
            }
            o = o.withLutGroup(lutGroup);
        }
        if (cl.hasOption("guided-groups")) {
            if (!method.guided()) throw new UsageException("--guided-groups applies to guidedquant and guided-gptq");
            o = o.withGuidedGroups(args.integer("guided-groups", 0, 1));
        }
        return o;
    }

    /** ReQuant's options, or null for the other methods (which refuse its flags). */
    static ReQuantOptions requantOptions(Args args, QuantizeOptions base, OutputFormat format) {
        if (!args.string("method", "guidedquant").equals("requant")) {
            for (String f : REQUANT_FLAGS) {
                if (args.has(f)) throw new UsageException("--" + f + " applies to --method requant");
            }
            return null;
        }
        if (format == OutputFormat.JLAMA_Q4 || format == OutputFormat.GGUF || format == OutputFormat.COMPRESSED_TENSORS) {
            throw new UsageException("--format " + format.cliName() + " cannot hold requant's sparse part; use --format shrink4j (dense + CSR) or dense");
        }
        double ro = args.fraction("outlier-ratio", ReQuantOptions.DEFAULT_OUTLIER_RATIO, 0, 0.5, true);
        double rs = args.fraction("significant-ratio", ReQuantOptions.DEFAULT_SIGNIFICANT_RATIO, 0, 0.5, true);
        boolean adaptive = args.choice("outlier-allocation", "adaptive", List.of("adaptive", "uniform")).equals("adaptive");
        int points = args.integer("pqi-points", ReQuantOptions.DEFAULT_PQI_POINTS, 1, 1024);
        return ReQuantOptions.defaults(base).withRatios(ro, rs).withAdaptive(adaptive).withPqiPoints(points);
    }

    private static Map<String, Object> requantSummary(ReQuant.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("outliers", r.outliers());
        m.put("significant", r.significant());
        m.put("detached_per_step", r.detached());
        Map<String, Object> ratios = new LinkedHashMap<>();
        r.outlierRatios().forEach(ratios::put);
        m.put("outlier_ratio_per_module", ratios);
        return m;
    }

    private static Map<String, Object> parameters(QuantizeOptions o, ReQuantOptions rq, OutputFormat f) {
        Map<String, Object> r = parameters(o, f);
        if (rq != null) {
            r.put("base", o.method().cliName());
            r.put("outlier_ratio", rq.outlierRatio());
            r.put("significant_ratio", rq.significantRatio());
            r.put("detach_step", rq.step());
            r.put("detach_steps", rq.detachSteps());
            r.put("outlier_allocation", rq.adaptive() ? "adaptive" : "uniform");
            r.put("pqi_points", rq.pqiPoints());
            r.put("pqi_rule", "left");
        }
        return r;
    }

    private static Map<String, Object> parameters(QuantizeOptions o, OutputFormat f) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("bits", o.bits());
        if (o.method().uniform()) {
            r.put("group_size", o.groupSize());
            r.put("symmetric", o.symmetric());
            if (o.method() != QuantMethod.RTN) {
                r.put("act_order", o.actOrder());
                r.put("static_groups", true);
                r.put("damp", 0.01);
                r.put("block_size", 128);
            }
        } else {
            r.put("codebook", o.lutGroup() == 0 ? "per row, 2^b fp16 entries" : "per " + o.lutGroup() + " input columns of a row, 2^b fp16 entries");
            if (o.lutGroup() != 0) r.put("lut_group", o.lutGroup());
            if (o.method() != QuantMethod.SQUEEZELLM) {
                r.put("lnq_iterations", o.lnqIterations());
                r.put("lnq_sweeps", o.lnqSweeps());
            }
        }
        if (o.method().guided()) r.put("guided_groups", o.guidedGroups() == 0 ? "4 where d_out allows, else 1" : o.guidedGroups());
        r.put("propagation", o.method().densePropagation() ? "dense" : "compressed");
        r.put("format", f.cliName());
        return r;
    }

    private static Map<String, Object> provenance(QuantizeOptions o, ReQuantOptions rq, Calibration calib, ModuleOverrides overrides,
                                                  HeadOptions head, LlamaModel input) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("method", rq == null ? o.method().cliName() : "requant");
        r.put("bits", o.bits());
        r.put("parameters", parameters(o, rq, OutputFormat.SHRINK4J));
        if (!overrides.isEmpty()) r.put("overrides", overrides.rules().stream().map(OverrideSpec::entry).toList());
        if (head.any()) r.put("head", head.provenance(input.headTied()));
        r.put("calibration", calib == null ? "none (data-free)" : CompressionRun.calibrationInfo(calib.record()));
        r.put("tool_version", Main.VERSION);
        return r;
    }

    private static Map<String, Object> layerRow(Quantizer.LayerReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("module", r.module());
        m.put("shape", r.dOut() + "x" + r.dIn());
        m.put("format", r.format());
        if (!Double.isNaN(r.objectiveAfter())) { // NaN: data-free RTN measured no H
            m.put("objective_init", r.objectiveInit());
            m.put("objective_after", r.objectiveAfter());
        }
        m.put("bits_payload", r.payloadBitsPerWeight());
        m.put("bits_total", r.totalBitsPerWeight());
        m.put("seconds", r.seconds());
        if (!r.note().isEmpty()) m.put("note", r.note());
        return m;
    }
}
