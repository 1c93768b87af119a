package dev.shrink4j.cli;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.SelfCalibration;
import dev.shrink4j.model.CheckpointConfig;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.gguf.GgufFile;
import dev.shrink4j.tensors.io.SafetensorsHeaders;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * What every compression command ({@code quantize}, {@code prune}, {@code lowrank}) shares: the
 * calibration and evaluation options, progress with ETA, timed stages, peak memory, and the one result
 * block printed on stdout and written to {@code --report DIR}:
 * <pre>
 *   HEADLINE (method-specific: what was done, where it was written)
 *   size on disk: IN → OUT (ratio); block linears B bits/weight
 *   TEXT: ppl a → b (ΔNLL, KL; tokens, T)            one line per evaluation text
 *   time: stage s, stage s, … (total)
 *   peak RssAnon M MiB
 * </pre>
 * Bits per weight has one definition everywhere: 8 × the bytes the output stores for the decoder
 * blocks' linear layers (weights, codes, scales, indices, factors, biases) divided by the number of
 * weights those linears had in the input. A pruned or factorized model is measured like a quantized one.
 */
final class CompressionRun implements AutoCloseable {
    /** Tensors of a block linear: {@code model.layers.N.(self_attn|mlp).…}, norms excluded. */
    private static final Pattern BLOCK_LINEAR = Pattern.compile("model\\.layers\\.\\d+\\.(self_attn|mlp)\\..*");

    private final String command;
    private final Args args;
    private final Console console;
    private final Path in;
    private final Path out;
    private final Progress progress;
    private final Report report;
    private final PeakMemory memory = new PeakMemory();
    private final Arena arena = Arena.ofShared();
    private final long started = System.nanoTime();
    private final List<String> evalLines = new ArrayList<>();
    private long inputLinearWeights;
    private final dev.shrink4j.model.Resume resume; // null: a measuring command (no OUT)
    /** Options that do not change what is written: a run may resume across them. */
    private static final java.util.Set<String> NOT_SETTINGS = java.util.Set.of("quiet", "report", "force", "max-memory", "no-resume", "stats-cache", "save-recipe", "dry-run");

    CompressionRun(String command, Args args, Console console, Path in, Path out) {
        this.command = command;
        this.args = args;
        this.console = console;
        this.in = in;
        this.out = out;
        this.progress = new Progress(console.err(), args.has("quiet"));
        this.report = new Report(command, Report.argv(command, args.commandLine()));
        report.put("input", in.toString());
        if (out != null) report.put("output", out.toString()); // null: a measuring command (pqi) writes no checkpoint
        checkMemoryBudget();
        if (args.has("save-recipe")) RecipeWriter.save(RecipeWriter.fromCommandLine(command, args.commandLine()), Path.of(args.string("save-recipe", null)));
        if (out != null) {
            for (Path stale : dev.shrink4j.tensors.io.AbandonedOutputs.remove(out)) {
                progress.note("note: removed " + stale + ", the partly written output of an earlier run of this command that was killed");
            }
        }
        this.resume = out == null ? null
                : dev.shrink4j.model.Resume.open(in, out, command, settings(args), args.has("no-resume"), progress::note);
    }

    /**
     * The run's resume state (docs/reliability.md "Resume"): finished blocks and model-spanning steps of
     * an interrupted run of the same command, settings and input; null for a command without OUT.
     */
    dev.shrink4j.model.Resume resume() {
        return resume;
    }

    /** Every option that can change the output, by long name (flags map to ""). */
    private static Map<String, String> settings(Args args) {
        Map<String, String> m = new java.util.TreeMap<>();
        for (Option o : args.commandLine().getOptions()) {
            String name = o.getLongOpt() != null ? o.getLongOpt() : o.getOpt();
            if (NOT_SETTINGS.contains(name)) continue;
            String[] v = o.getValues();
            m.merge(name, v == null ? "" : String.join(",", v), (a, b) -> a + "," + b);
        }
        m.put("(version)", Main.VERSION);
        return m;
    }

    /**
     * {@code --max-memory SIZE}: refuses the run before any work when {@link HeapPlan}'s estimate exceeds
     * SIZE (exit 2: the command line has to change), naming what needs the memory.
     */
    private void checkMemoryBudget() {
        if (!args.has("max-memory")) return;
        long budget = parseSize("--max-memory", args.string("max-memory", null));
        HeapPlan.Plan plan = HeapPlan.plan(command, args.commandLine());
        report.put("max_memory_bytes", budget);
        report.put("memory_estimate_bytes", plan.total());
        if (plan.total() > budget) {
            throw new UsageException("--max-memory " + args.string("max-memory", null) + ": this run needs " + plan.describe()
                    + "; lower --samples or --seq-len, or raise --max-memory");
        }
    }

    /** "4g", "1500m", "512MiB", "2GB", "1073741824" → bytes (binary units). */
    static long parseSize(String flag, String text) {
        java.util.regex.Matcher m = Pattern.compile("(?i)\\s*(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(?:i?b)?\\s*").matcher(text);
        if (!m.matches()) throw new UsageException(flag + " " + text + ": expected a size such as 4g, 1500m or 512MiB");
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        double bytes = Double.parseDouble(m.group(1)) * (1L << shift);
        if (bytes < 1 || bytes > Long.MAX_VALUE / 2) throw new UsageException(flag + " " + text + ": out of range");
        return (long) bytes;
    }

    /** The options every compression command takes: calibration, evaluation, report, force, quiet. */
    static void addOptions(Options o, int defaultSamples, String calibrationNote) {
        addCalibrationOptions(o, defaultSamples, calibrationNote);
        EvalSupport.addOptions(o);
        o.addOption(Option.builder().longOpt("report").hasArg().argName("DIR").desc("write report.json and report.md there").build());
        o.addOption(Option.builder().longOpt("force").desc("replace OUT if it exists").build());
        o.addOption(Option.builder().longOpt("max-memory").hasArg().argName("SIZE")
                .desc("refuse up front when the estimated memory (RssAnon: heap, off-heap activations, JVM) exceeds SIZE, e.g. 4g, 1500m; the launcher sizes the heap within it").build());
        o.addOption(Option.builder().longOpt("quiet").desc("no progress on stderr").build());
        o.addOption(dryRunOption());
        o.addOption(Option.builder().longOpt("save-recipe").hasArg().argName("FILE")
                .desc("also write the recipe this command line means (YAML, or JSON for *.json) for shrink4j run; docs/recipes.md").build());
        o.addOption(Option.builder().longOpt("no-resume")
                .desc("start over even when a killed run of this command left finished blocks to continue from (default: continue; docs/reliability.md)").build());
    }

    /** {@code --dry-run}: quantize, prune, lowrank and run. */
    static Option dryRunOption() {
        return Option.builder().longOpt("dry-run")
                .desc("print the estimated peak RssAnon, wall time (from the shapes and a half-second probe of this machine), output size and bits/weight, and the stages in order; compute and write nothing (docs/recipes.md)").build();
    }

    /** {@code --calib}, {@code --samples}, {@code --seq-len}, {@code --seed}: also for commands that only measure (pqi). */
    static void addCalibrationOptions(Options o, int defaultSamples, String calibrationNote) {
        o.addOption(Option.builder().longOpt("calib").hasArg().argName("FILE|self|random")
                .desc("calibration text; self (default): the model's own seeded generations; random: token ids (synthetic checkpoints)"
                        + (calibrationNote.isEmpty() ? "" : "; " + calibrationNote)).build());
        o.addOption(Option.builder().longOpt("samples").hasArg().argName("N")
                .desc("calibration sequences (default " + defaultSamples + "; with self, sized to the model: see docs/model.md)").build());
        o.addOption(Option.builder().longOpt("seq-len").hasArg().argName("T").desc("calibration sequence length incl. BOS (default min(2048, context))").build());
        o.addOption(Option.builder().longOpt("seed").hasArg().argName("S").desc("calibration seed (default 0)").build());
    }

    Arena arena() {
        return arena;
    }

    Progress progress() {
        return progress;
    }

    /** The quantizers' stage and step callbacks on this run's progress lines. */
    dev.shrink4j.quantize.Quantizer.Listener quantizerListener() {
        return new dev.shrink4j.quantize.Quantizer.Listener() {
            @Override
            public void stage(String name, int total) {
                progress.stage(name, total);
            }

            @Override
            public void step(int done, String what) {
                progress.step(done, what);
            }
        };
    }

    Report report() {
        return report;
    }

    Console console() {
        return console;
    }

    /** Peak RssAnon of the process so far, in bytes (0 where /proc is not readable); for commands that print no result block. */
    long peakAnonBytes() {
        memory.sample();
        return memory.peakAnonBytes();
    }

    /**
     * Loads IN and records it in the report. A compressed IN is refused with one line naming its
     * config.json unless the method {@code acceptsCompressed} (then its linears are dequantized block by
     * block as the method reads them, said in one line).
     */
    LlamaModel loadInput(boolean acceptsCompressed) {
        if (!acceptsCompressed) CheckpointConfig.requireDense(in, command);
        LlamaModel model = LlamaModel.load(in, arena);
        report.put("model", Report.modelInfo(in, model));
        inputLinearWeights = blockLinearWeights(model);
        boolean structured = model.isCompressed() && dev.shrink4j.model.ModelConfig.load(in).compressedTensors().values().stream()
                .anyMatch(d -> QuantizeCommand.STRUCTURED.contains(String.valueOf(d.get("format"))));
        if (structured) {
            progress.note("note: " + in + " has N:M-sparse or low-rank linears: their structure is kept (kept values or factors quantized)");
            report.put("input", in + " (structured: N:M kept values or low-rank factors quantized in place)");
        } else if (model.isCompressed()) {
            progress.note("note: " + in + " is already compressed: its linears are dequantized block by block and compressed again");
            report.put("input", in + " (compressed: dequantized block by block)");
        }
        return model;
    }

    /** The tokenizer of IN, or null when none is needed (data-free or random calibration without evaluation). */
    Tokenizer tokenizer(LlamaModel model, boolean calibrates) {
        return tokenizerNeeded(calibrates) ? Tokenizer.load(in, model.config()) : null;
    }

    /**
     * Whether the run reads text: a calibration file (when it calibrates at all) or {@code --eval} files.
     * Self-calibration and the self-generated evaluation text work in token ids, so a checkpoint without a
     * tokenizer (a synthetic one) runs without one.
     */
    boolean tokenizerNeeded(boolean calibrates) {
        String source = args.string("calib", "self");
        boolean calibrationFile = calibrates && !source.equals("self") && !source.equals("random");
        return calibrationFile || (args.has("eval") && !args.has("no-eval"));
    }

    /** Whether the run calibrates on random token ids (synthetic checkpoints without a tokenizer). */
    boolean randomCalibration() {
        return args.string("calib", "self").equals("random");
    }

    /**
     * The calibration set of {@code --calib}, {@code --samples}, {@code --seq-len}, {@code --seed}, with
     * progress; recorded in the report.
     */
    Calibration calibration(LlamaModel model, Tokenizer tok, int defaultSamples) throws IOException {
        String source = args.string("calib", "self");
        int samples = args.integer("samples", defaultSamples, 1);
        int seqLen = args.integer("seq-len", 0, 2, model.config().maxPositions());
        long seed = args.longValue("seed", 0);
        if (source.equals("self") && resume != null) {
            java.util.Optional<Calibration> stored = resume.storedCalibration();
            if (stored.isPresent()) {
                Calibration c = stored.get();
                progress.stage(String.format(Locale.ROOT, "calibration: the model's %d × %d generated tokens from the interrupted run (checkpointed)",
                        c.record().samples(), c.record().seqLen() - 1), 0);
                report.put("calibration", calibrationInfo(c.record()));
                return c;
            }
        }
        Calibration c = stage("calibration", () -> switch (source) {
            case "self" -> selfCalibration(model, samples, seqLen, seed);
            case "random" -> Calibration.random(model.config(), samples, seqLen, seed);
            default -> {
                Path file = Path.of(source);
                String text = Args.readText("--calib", file);
                progress.stage("calibration from " + file, 0);
                yield Calibration.fromTokens(tok.encode(text, false), file.toString(), model.config(), samples, seqLen, seed);
            }
        });
        report.put("calibration", calibrationInfo(c.record()));
        return recorded(c);
    }

    /** Records the calibration tokens in the resume state (a run on other tokens starts over there). */
    Calibration recorded(Calibration c) {
        if (resume != null) resume.calibration(c);
        return c;
    }

    /**
     * The model's own generations, sized by {@link SelfCalibration}'s rule unless --samples or --seq-len
     * say otherwise; says up front what it will generate, then shows progress with ETA.
     */
    private Calibration selfCalibration(LlamaModel model, int samples, int seqLen, long seed) {
        long parameters = SelfCalibration.parameters(model);
        SelfCalibration.Size size = SelfCalibration.of(model.config(), parameters, samples, seqLen, args.has("samples") || args.has("seq-len"));
        String why = size.reduced()
                ? String.format(Locale.ROOT, " (sized to the model's %.2f B parameters: --samples/--seq-len or --calib FILE to choose)", parameters / 1e9)
                : "";
        progress.stage(String.format(Locale.ROOT, "calibration: the model generates %d × %d tokens%s", size.samples(), size.seqLen() - 1, why), 0);
        if (size.reduced()) report.put("calibration_sizing", "reduced by the self-calibration rule (docs/model.md)");
        return Calibration.selfGenerated(model, size.samples(), size.seqLen(), seed,
                (done, total) -> progress.tick((int) Math.min(Integer.MAX_VALUE, done), (int) Math.min(Integer.MAX_VALUE, total), "tokens", ""));
    }

    static Map<String, Object> calibrationInfo(Calibration.Record c) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("file", c.file());
        r.put("samples", c.samples());
        r.put("seq_len", c.seqLen());
        r.put("seed", c.seed());
        r.put("text_tokens", c.textTokens());
        r.put("tokens", c.tokens());
        return r;
    }

    /** The evaluation texts ({@code --eval}, or the model's own generations), read before any work starts. */
    EvalSupport evaluation(LlamaModel model, Tokenizer tok) throws IOException {
        return stage("evaluation text", () -> EvalSupport.fromCommandLine(args, model, tok, args.longValue("seed", 0), progress));
    }

    /** A stage's work: may write files. */
    @FunctionalInterface
    interface Work<T> {
        T run() throws IOException;
    }

    /** Runs {@code work} as a timed stage of the report. */
    <T> T stage(String name, Work<T> work) throws IOException {
        try (var t = report.stage(name)) {
            return work.run();
        }
    }

    /** Scores the original before the work. */
    void evalBefore(EvalSupport eval, LlamaModel original) {
        if (!eval.enabled()) return;
        try (var t = report.stage("eval before")) {
            eval.before(original);
        }
    }

    /** Scores the compressed model against the original; the rows go to the result block and the report. */
    void evalAfter(EvalSupport eval, LlamaModel compressed, LlamaModel original) throws IOException {
        if (!eval.enabled()) return;
        List<Map<String, Object>> rows = stage("eval after", () -> eval.after(compressed, original));
        for (Map<String, Object> r : rows) {
            report.eval(r);
            evalLines.add(EvalSupport.line(r));
        }
    }

    /**
     * Prints the result block on stdout (see the class comment) and writes the report directory. Call
     * after OUT was committed.
     */
    void finish(String headline) throws IOException {
        memory.sample();
        report.memory(memory);
        long inBytes = safetensorsBytes(in);
        long outBytes = safetensorsBytes(out);
        long linearBytes = blockLinearBytes(out);
        if (inputLinearWeights == 0) {
            try (Arena a = Arena.ofConfined()) {
                inputLinearWeights = blockLinearWeights(LlamaModel.load(in, a));
            }
        }
        double bits = inputLinearWeights == 0 ? Double.NaN : 8.0 * linearBytes / inputLinearWeights;
        Map<String, Object> size = new LinkedHashMap<>();
        size.put("input_safetensors_bytes", inBytes);
        size.put("output_safetensors_bytes", outBytes);
        size.put("block_linear_weights_in_input", inputLinearWeights);
        size.put("block_linear_bytes_in_output", linearBytes);
        size.put("bits_per_weight", bits);
        report.put("size", size);
        double seconds = (System.nanoTime() - started) / 1e9;
        report.put("seconds", seconds);

        console.out().println(headline);
        console.out().printf(Locale.ROOT, "size on disk: %s → %s (%.2f×); block linears %.3f bits/weight%n",
                human(inBytes), human(outBytes), (double) outBytes / inBytes, bits);
        if (outBytes > inBytes) {
            console.out().printf(Locale.ROOT, "warning: the output is %s larger than the input: this format does not pay off at this setting%n",
                    human(outBytes - inBytes));
        }
        for (String line : evalLines) console.out().println(line);
        StringBuilder time = new StringBuilder("time: ");
        report.stages().forEach((k, v) -> time.append(String.format(Locale.ROOT, "%s %.1f s, ", k, v)));
        time.append(String.format(Locale.ROOT, "total %.1f s", seconds));
        console.out().println(time);
        if (memory.peakAnonBytes() > 0) console.out().printf(Locale.ROOT, "peak RssAnon %.1f MiB%n", memory.peakAnonBytes() / 1048576.0);
        if (args.has("report")) {
            Path dir = Path.of(args.string("report", null));
            try {
                report.write(dir);
            } catch (IOException e) {
                throw new ShrinkException("--report " + dir + ": cannot write (" + e.getMessage() + ")", e);
            }
            console.out().println("report: " + dir.resolve("report.md"));
        }
    }

    @Override
    public void close() {
        memory.close();
        arena.close();
        if (resume != null) resume.close();
    }

    private static final java.util.regex.Pattern GGUF_BLOCK_LINEAR =
            java.util.regex.Pattern.compile("blk\\.\\d+\\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\\.weight");

    /** Weights of the decoder blocks' linears (d_out × d_in each), whatever their storage. */
    static long blockLinearWeights(LlamaModel model) {
        long n = 0;
        for (int l = 0; l < model.numLayers(); l++) {
            Layer layer = model.layer(l);
            for (Linear lin : layer.linears().values()) n += (long) lin.outFeatures() * lin.inFeatures();
        }
        return n;
    }

    /** Bytes of every stored tensor that belongs to a decoder block's linear (norms excluded). */
    static long blockLinearBytes(Path dir) {
        if (GgufFile.looksLikeGguf(dir)) {
            long bytes = 0;
            try (Arena a = Arena.ofConfined()) {
                for (GgufFile.TensorEntry e : GgufFile.open(dir, a).tensors().values()) {
                    if (GGUF_BLOCK_LINEAR.matcher(e.name()).matches()) bytes += e.bytes();
                }
            }
            return bytes;
        }
        long bytes = 0;
        for (Map.Entry<String, Long> e : SafetensorsHeaders.tensorBytes(dir).entrySet()) {
            if (BLOCK_LINEAR.matcher(e.getKey()).matches()) bytes += e.getValue();
        }
        return bytes;
    }

    /** Bytes of the safetensors files of a checkpoint directory. */
    static long safetensorsBytes(Path dir) {
        if (Files.isRegularFile(dir)) {
            try {
                return Files.size(dir);
            } catch (IOException e) {
                throw new ShrinkException(dir + ": cannot read its size (" + e.getMessage() + ")", e);
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    throw new ShrinkException(p + ": cannot read its size (" + e.getMessage() + ")", e);
                }
            }).sum();
        } catch (IOException e) {
            throw new ShrinkException(dir + ": cannot list (" + e.getMessage() + ")", e);
        }
    }

    /** 1,044,984 → "1.00 MiB". */
    static String human(long bytes) {
        return InspectCommand.human(bytes);
    }
}
