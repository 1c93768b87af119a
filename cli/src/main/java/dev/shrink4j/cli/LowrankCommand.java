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
 * SVD (docs/methods/lowrank-lost.md §1), whitened SVD (docs/methods/lowrank-lost.md §2), ASVD (docs/methods/lowrank-lost.md §3) or LOST (docs/methods/lowrank-lost.md §4–§6), block by block.
 */
final class LowrankCommand implements Command {
    static final int DEFAULT_SAMPLES = 128;
    static final List<String> METHODS = List.of("svd", "whitened-svd", "asvd", "lost", "lost-whitened");

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
                Example: shrink4j lowrank --method lost --params-ratio 0.5 --eval examples/text/tinyshakespeare.txt examples/stories260K /tmp/lost50""";
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
                .desc("f32 | f16 | bf16 for factors and kept columns (default: each weight's own)").build());
        o.addOption(Option.builder().longOpt("damp").hasArg().argName("D")
                .desc("relative damping of H for whitening (default " + WhitenedSvd.DEFAULT_DAMP + ")").build());
        o.addOption(Option.builder().longOpt("alpha").hasArg().argName("A")
                .desc("ASVD scaling exponent (default " + ActivationScaledSvd.DEFAULT_ALPHA + ")").build());
        CompressionRun.addOptions(o, DEFAULT_SAMPLES, "used by whitened-svd, asvd and lost-whitened");
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) throws Exception {
        Args args = new Args(cl);
        List<String> paths = args.positionals("IN", "OUT");
        LowRankMethod method = LowRankMethod.parse(args.choice("method", null, METHODS));
        if (!args.has("params-ratio")) throw new UsageException("--params-ratio is required, e.g. --params-ratio 0.5");
        double ratio = args.fraction("params-ratio", Double.NaN, 0, true, 1, false);
        double rho = args.fraction("rho", Budgets.DEFAULT_RHO, 0, 1, true);
        Lost.Options lost = Lost.Options.compression().withRho(rho);
        LowRankCompressor.Settings settings = new LowRankCompressor.Settings(method, ratio, lost,
                args.number("damp", WhitenedSvd.DEFAULT_DAMP, 0, Double.POSITIVE_INFINITY),
                args.number("alpha", ActivationScaledSvd.DEFAULT_ALPHA, 0, Double.POSITIVE_INFINITY));
        LowRankFormat format = LowRankFormat.parse(args.choice("format", "shrink4j", List.of("shrink4j", "dense")));
        DType dtype = args.has("dtype") ? DType.parse(args.choice("dtype", null, List.of("f32", "f16", "bf16")).toUpperCase(Locale.ROOT)) : null;
        Path in = Args.inputDir("IN", Path.of(paths.get(0)));
        Path out = args.output(in, paths.get(1));
        if (args.has("dry-run")) {
            DryRun.print("lowrank", cl, in, console.out());
            return 0;
        }

        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("method", method.cliName());
        provenance.put("parameters", parameters(settings, format, dtype));
        provenance.put("tool_version", Main.VERSION);
        CheckpointLowRank driver = new CheckpointLowRank(new LowRankCompressor(settings));
        driver.preflight(in);
        CheckpointLowRank.Options opts = new CheckpointLowRank.Options(format, args.has("force"), dtype, provenance);
        CheckpointLowRank.Summary summary;
        try (CompressionRun run = new CompressionRun("lowrank", args, console, in, out)) {
            Report report = run.report();
            report.put("method", method.cliName());
            report.put("parameters", parameters(settings, format, dtype));
            CheckpointLowRank.Listener listener = listener(run.progress(), report, method);
            if (!method.needsCalibration() && args.has("no-eval")) {
                // Weight-only and nothing to evaluate: stream block by block, memory bounded by one block.
                report.put("model", Map.of("path", in.toString()));
                summary = run.stage("factorize", () -> driver.run(in, out, opts, listener, run.resume()));
            } else {
                LlamaModel model = run.loadInput(false);
                Tokenizer tok = run.tokenizer(model, method.needsCalibration());
                Calibration calib = method.needsCalibration() ? run.calibration(model, tok, DEFAULT_SAMPLES) : null;
                if (calib != null) provenance.put("calibration", CompressionRun.calibrationInfo(calib.record()));
                EvalSupport eval = run.evaluation(model, tok);
                LlamaModel reference = eval.enabled() ? LlamaModel.load(in, run.arena()) : null;
                run.evalBefore(eval, reference);
                summary = run.stage("factorize", () -> driver.run(model, in, out, opts, calib, listener, run.resume()));
                run.evalAfter(eval, model, reference);
            }
            Map<String, Object> totals = new LinkedHashMap<>();
            totals.put("linears", summary.linears());
            totals.put("dense_values", summary.denseParams());
            totals.put("stored_values", summary.params());
            totals.put("achieved_ratio", summary.ratio());
            totals.put("safetensors_bytes", summary.outputBytes());
            report.put("totals", totals);
            run.finish(String.format(Locale.ROOT, "lowrank %s P=%s: %d linears in %d blocks, %,d of %,d values (%.4f), written to %s (%s)",
                    method.cliName(), ratio, summary.linears(), summary.blocks(), summary.params(), summary.denseParams(),
                    summary.ratio(), summary.output(), format.cliName()));
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
}
