package dev.shrink4j.cli;

import dev.shrink4j.lowrank.ActivationScaledSvd;
import dev.shrink4j.lowrank.Budgets;
import dev.shrink4j.lowrank.CheckpointLowRank;
import dev.shrink4j.lowrank.LowRankCompressor;
import dev.shrink4j.lowrank.LowRankFormat;
import dev.shrink4j.lowrank.LowRankMethod;
import dev.shrink4j.lowrank.Lost;
import dev.shrink4j.lowrank.WhitenedSvd;
import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code shrink4j lowrank}: factorizes every decoder-block linear at a parameter ratio with truncated
 * SVD (METHODS §2.7), whitened SVD (§2.8), ASVD (§2.9) or LOST (§7.1–7.3), block by block.
 */
final class LowrankCommand implements Command {
    static final int DEFAULT_SAMPLES = 128;

    @Override
    public String name() {
        return "lowrank";
    }

    @Override
    public String summary() {
        return "factorize block linears: truncated/whitened SVD, ASVD, LOST";
    }

    @Override
    public String arguments() {
        return "IN OUT";
    }

    @Override
    public String footer() {
        return """

                IN is a checkpoint directory, OUT a new directory (refused if it exists, unless --force).
                --params-ratio P keeps at most floor(P*d_in*d_out) stored values per matrix: the SVD methods
                spend them on r(d_in + d_out), LOST on c*d_out kept input columns (c = max(1, floor(rho*d_in)),
                ids not counted) plus the largest rank that fits. svd and lost read only the weights;
                whitened-svd, asvd and lost-whitened calibrate (--calib, default: the model's own text).
                Quality before/after is measured as in quantize (--eval, default self-generated text);
                svd/lost with --no-eval stream the checkpoint block by block in bounded memory.
                example: shrink4j lowrank --method lost --params-ratio 0.5 --eval valid.txt model/ model-lost/""";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("method").hasArg().argName("NAME")
                .desc("svd | whitened-svd | asvd | lost | lost-whitened (required)").build());
        o.addOption(Option.builder().longOpt("params-ratio").hasArg().argName("P")
                .desc("share of each matrix's values to keep, in (0, 1] (required)").build());
        o.addOption(Option.builder().longOpt("rho").hasArg().argName("R")
                .desc("LOST: share of input columns kept whole (default " + Budgets.DEFAULT_RHO + ", at least one)").build());
        o.addOption(Option.builder().longOpt("format").hasArg().argName("F")
                .desc("shrink4j (factors, default) | dense (merged weights, for accuracy checks)").build());
        o.addOption(Option.builder().longOpt("dtype").hasArg().argName("T")
                .desc("F32 | F16 | BF16 for factors and kept columns (default: each weight's own)").build());
        o.addOption(Option.builder().longOpt("damp").hasArg().argName("D")
                .desc("relative damping of H for whitening (default " + WhitenedSvd.DEFAULT_DAMP + ")").build());
        o.addOption(Option.builder().longOpt("alpha").hasArg().argName("A")
                .desc("ASVD scaling exponent (default " + ActivationScaledSvd.DEFAULT_ALPHA + ")").build());
        o.addOption(Option.builder().longOpt("calib").hasArg().argName("FILE|self")
                .desc("calibration text for whitened-svd, asvd, lost-whitened (default self: the model's own generations)").build());
        o.addOption(Option.builder().longOpt("samples").hasArg().argName("N").desc("calibration sequences (default " + DEFAULT_SAMPLES + ")").build());
        o.addOption(Option.builder().longOpt("seq-len").hasArg().argName("T").desc("calibration sequence length (default min(2048, context))").build());
        o.addOption(Option.builder().longOpt("seed").hasArg().argName("S").desc("calibration window seed (default 0)").build());
        EvalSupport.addOptions(o);
        o.addOption(Option.builder().longOpt("report").hasArg().argName("DIR").desc("write report.json and report.md to DIR").build());
        o.addOption(Option.builder().longOpt("force").desc("replace OUT if it exists").build());
        o.addOption(Option.builder().longOpt("quiet").desc("no progress on stderr").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) throws Exception {
        List<String> args = cl.getArgList();
        if (args.size() != 2) throw new UsageException("expected IN and OUT, got " + args.size() + " arguments");
        Path in = Path.of(args.get(0));
        Path out = Path.of(args.get(1));
        LowRankMethod method = method(cl);
        double ratio = ratio(cl);
        double rho = ModelArgs.doubleOption(cl, "rho", Budgets.DEFAULT_RHO, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
        if (!(rho >= 0 && rho < 1)) throw new UsageException("--rho must be in [0, 1), got " + cl.getOptionValue("rho"));
        Lost.Options lost = Lost.Options.compression().withRho(rho);
        LowRankCompressor.Settings settings = new LowRankCompressor.Settings(method, ratio, lost,
                ModelArgs.doubleOption(cl, "damp", WhitenedSvd.DEFAULT_DAMP, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY), ModelArgs.doubleOption(cl, "alpha", ActivationScaledSvd.DEFAULT_ALPHA, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY));
        LowRankFormat format = cl.hasOption("format") ? usage(() -> LowRankFormat.parse(cl.getOptionValue("format"))) : LowRankFormat.SHRINK4J;
        DType dtype = cl.hasOption("dtype") ? factorType(cl.getOptionValue("dtype")) : null;
        int samples = ModelArgs.intOption(cl, "samples", DEFAULT_SAMPLES, 1);
        int seqLen = ModelArgs.intOption(cl, "seq-len", 0, 2);
        long seed = ModelArgs.longOption(cl, "seed", 0);
        String calibSource = cl.getOptionValue("calib", "self");
        boolean force = cl.hasOption("force");
        if (!Files.isDirectory(in)) throw new ShrinkException(in + ": not a checkpoint directory");
        if (Files.exists(out) && !force) throw new ShrinkException(out + ": output already exists (use --force to replace it)");
        if (out.toAbsolutePath().normalize().equals(in.toAbsolutePath().normalize())) {
            throw new ShrinkException(out + ": the output must not be the input checkpoint");
        }

        Progress progress = new Progress(console.err(), cl.hasOption("quiet"));
        Report report = new Report("lowrank", Report.argv("lowrank", cl));
        report.put("method", method.cliName());
        report.put("parameters", parameters(settings, format, dtype));
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("method", method.cliName());
        provenance.put("parameters", parameters(settings, format, dtype));
        provenance.put("tool_version", Main.VERSION);
        CheckpointLowRank driver = new CheckpointLowRank(new LowRankCompressor(settings));
        driver.preflight(in);
        CheckpointLowRank.Options opts = new CheckpointLowRank.Options(format, force, dtype, provenance);
        List<Map<String, Object>> evalRows = List.of();
        CheckpointLowRank.Summary summary;
        try (PeakMemory mem = new PeakMemory(); Arena arena = Arena.ofShared()) {
            if (!method.needsCalibration() && cl.hasOption("no-eval")) {
                // Weight-only and nothing to evaluate: stream block by block, memory bounded by one block.
                report.put("model", Map.of("path", in.toString()));
                try (var t = report.stage("factorize")) {
                    summary = driver.run(in, out, opts, listener(progress, report, method));
                }
            } else {
                LlamaModel model = LlamaModel.load(in, arena);
                Tokenizer tok = Tokenizer.load(in, model.config());
                report.put("model", Report.modelInfo(in, model));
                Calibration calib = null;
                EvalSupport eval;
                try (var t = report.stage("calibration")) {
                    if (method.needsCalibration()) {
                        progress.stage("calibration from " + calibSource, 0);
                        calib = Calibration.fromSource(calibSource, model, tok, samples, seqLen, seed);
                        report.put("calibration", QuantizeCommand.calibrationInfo(calib.record()));
                        provenance.put("calibration", QuantizeCommand.calibrationInfo(calib.record()));
                    }
                    eval = EvalSupport.fromCommandLine(cl, model, tok, seed);
                }
                LlamaModel reference = null;
                if (eval.enabled()) {
                    reference = LlamaModel.load(in, arena);
                    try (var t = report.stage("eval before")) {
                        progress.stage("evaluate original", 0);
                        eval.before(reference);
                    }
                }
                try (var t = report.stage("factorize")) {
                    summary = driver.run(model, in, out, opts, calib, listener(progress, report, method));
                }
                if (eval.enabled()) {
                    try (var t = report.stage("eval after")) {
                        progress.stage("evaluate factorized", 0);
                        evalRows = eval.after(model, reference);
                    }
                    for (Map<String, Object> r : evalRows) report.eval(r);
                }
            }
            mem.sample();
            report.memory(mem);
            Map<String, Object> totals = new LinkedHashMap<>();
            totals.put("linears", summary.linears());
            totals.put("dense_values", summary.denseParams());
            totals.put("stored_values", summary.params());
            totals.put("achieved_ratio", summary.ratio());
            totals.put("safetensors_bytes", summary.outputBytes());
            report.put("totals", totals);
            console.out().printf("%s %s P=%s: %d linears in %d blocks, %,d of %,d values (%.4f), %s written to %s (%s)%n",
                    "lowrank", method.cliName(), ratio, summary.linears(), summary.blocks(), summary.params(), summary.denseParams(),
                    summary.ratio(), InspectCommand.human(summary.outputBytes()), summary.output(), format.cliName());
            for (Map<String, Object> r : evalRows) console.out().println(EvalSupport.line(r));
            if (mem.peakAnonBytes() > 0) console.out().printf("peak RssAnon %.1f MiB%n", mem.peakAnonBytes() / 1048576.0);
            if (cl.hasOption("report")) {
                Path dir = Path.of(cl.getOptionValue("report"));
                report.write(dir);
                console.out().println("report: " + dir.resolve("report.md"));
            }
        }
        return 0;
    }

    /** Progress on stderr and one report row per linear. */
    private static CheckpointLowRank.Listener listener(Progress progress, Report report, LowRankMethod method) {
        return new CheckpointLowRank.Listener() {
            private int done;

            @Override
            public void started(int blocks, int linears) {
                progress.stage(method.cliName(), linears);
            }

            @Override
            public void linear(CheckpointLowRank.LinearRow r) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("module", r.module());
                m.put("shape", r.dOut() + "x" + r.dIn());
                m.put("rank", r.rank());
                if (method.isLost()) m.put("columns", r.columns());
                m.put("values", r.params());
                m.put("ratio", (double) r.params() / r.denseParams());
                m.put("weight_error", r.weightError());
                if (method.needsGram()) {
                    m.put("output_error", r.outputError());
                    m.put("damping", r.damping());
                }
                m.put("seconds", r.seconds());
                report.layer(m);
                progress.step(++done, String.format(Locale.ROOT, "%s rank %d%s, rel. error %.4f", r.module(), r.rank(),
                        r.columns() > 0 ? " + " + r.columns() + " cols" : "", r.weightError()));
            }
        };
    }

    private static Map<String, Object> parameters(LowRankCompressor.Settings s, LowRankFormat f, DType dtype) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("params_ratio", s.paramsRatio());
        if (s.method().isLost()) {
            r.put("rho", s.lost().rho());
            r.put("k", "all");
            r.put("values", "complement");
            r.put("selection", s.method().needsGram() ? "residual L2 x sqrt(H_jj)" : "residual L2");
        }
        if (s.method().needsGram()) r.put("damp", s.damp());
        if (s.method().needsMeanAbs()) r.put("alpha", s.alpha());
        r.put("format", f.cliName());
        r.put("dtype", dtype == null ? "as input" : dtype.safetensorsName());
        return r;
    }

    private static LowRankMethod method(CommandLine cl) {
        if (!cl.hasOption("method")) throw new UsageException("--method is required (svd, whitened-svd, asvd, lost, lost-whitened)");
        return usage(() -> LowRankMethod.parse(cl.getOptionValue("method")));
    }

    private static double ratio(CommandLine cl) {
        if (!cl.hasOption("params-ratio")) throw new UsageException("--params-ratio is required, e.g. --params-ratio 0.5");
        double p = ModelArgs.doubleOption(cl, "params-ratio", Double.NaN, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
        if (!(p > 0 && p <= 1)) throw new UsageException("--params-ratio must be in (0, 1], got " + cl.getOptionValue("params-ratio"));
        return p;
    }

    private static DType factorType(String name) {
        DType t = usage(() -> DType.parse(name.toUpperCase(Locale.ROOT)));
        if (t != DType.F32 && t != DType.F16 && t != DType.BF16) throw new UsageException("--dtype must be F32, F16 or BF16, got " + name);
        return t;
    }

    /** Turns a parse failure of a flag value into a usage error (exit 2). */
    private static <T> T usage(Supplier<T> parse) {
        try {
            return parse.get();
        } catch (ShrinkException | IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
