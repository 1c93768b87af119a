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
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code shrink4j lowrank}: factorizes every decoder-block linear at a parameter ratio with truncated
 * SVD (METHODS §2.7), whitened SVD (§2.8), ASVD (§2.9) or LOST (§7.1–7.3), block by block.
 */
final class LowrankCommand implements Command {
    static final int DEFAULT_SAMPLES = 128;
    static final int EVAL_SEQ_LEN = 256;

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
                --params-ratio P keeps at most ⌊P·d_in·d_out⌋ stored values per matrix: SVD methods
                spend them on r(d_in + d_out), LOST on c·d_out kept columns (c = max(1, ⌊rho·d_in⌋),
                ids not counted) plus the largest rank that fits. svd and lost read only the weights;
                whitened-svd, asvd and lost-whitened need --calib.
                example: shrink4j lowrank --method lost --params-ratio 0.5 model/ model-lost/""";
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
                .desc("calibration text, or 'self' for the model's own generations (needed by whitened-svd, asvd, lost-whitened)").build());
        o.addOption(Option.builder().longOpt("samples").hasArg().argName("N").desc("calibration sequences (default " + DEFAULT_SAMPLES + ")").build());
        o.addOption(Option.builder().longOpt("seq-len").hasArg().argName("T").desc("calibration sequence length (default min(2048, context))").build());
        o.addOption(Option.builder().longOpt("seed").hasArg().argName("S").desc("calibration window seed (default 0)").build());
        o.addOption(Option.builder().longOpt("eval").hasArg().argName("FILE")
                .desc("after compressing, score FILE (METHODS §9.2): NLL, perplexity and KL against IN; repeatable").build());
        o.addOption(Option.builder().longOpt("eval-seq-len").hasArg().argName("T").desc("evaluation window length including BOS (default " + EVAL_SEQ_LEN + ", as eval)").build());
        o.addOption(Option.builder().longOpt("max-windows").hasArg().argName("N").desc("evaluate at most N windows per text").build());
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
        double rho = number(cl, "rho", Budgets.DEFAULT_RHO);
        if (!(rho >= 0 && rho < 1)) throw new UsageException("--rho must be in [0, 1), got " + cl.getOptionValue("rho"));
        Lost.Options lost = Lost.Options.compression().withRho(rho);
        LowRankCompressor.Settings settings = new LowRankCompressor.Settings(method, ratio, lost,
                number(cl, "damp", WhitenedSvd.DEFAULT_DAMP), number(cl, "alpha", ActivationScaledSvd.DEFAULT_ALPHA));
        LowRankFormat format = cl.hasOption("format") ? usage(() -> LowRankFormat.parse(cl.getOptionValue("format"))) : LowRankFormat.SHRINK4J;
        DType dtype = cl.hasOption("dtype") ? factorType(cl.getOptionValue("dtype")) : null;
        String calib = cl.getOptionValue("calib");
        if (method.needsCalibration() && calib == null) {
            throw new UsageException("method " + method.cliName() + " needs calibration data (--calib FILE|self)");
        }
        int samples = ModelArgs.intOption(cl, "samples", DEFAULT_SAMPLES, 1);
        int seqLen = ModelArgs.intOption(cl, "seq-len", 0, 2);
        long seed = (long) number(cl, "seed", 0);
        String[] evals = cl.getOptionValues("eval") == null ? new String[0] : cl.getOptionValues("eval");
        int evalSeqLen = ModelArgs.intOption(cl, "eval-seq-len", 0, 2);
        int maxWindows = ModelArgs.intOption(cl, "max-windows", 0, 1);
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("method", method.cliName());
        provenance.put("params_ratio", ratio);
        if (method.isLost()) provenance.put("rho", lost.rho());
        provenance.put("tool_version", Main.VERSION);
        boolean quiet = cl.hasOption("quiet");
        CheckpointLowRank.Listener progress = new CheckpointLowRank.Listener() {
            @Override
            public void linear(CheckpointLowRank.LinearRow r) {
                if (!quiet) {
                    console.err().printf("[lowrank] %s %dx%d rank %d%s, rel. error %.4f%s, %.1fs%n", r.module(), r.dOut(), r.dIn(), r.rank(),
                            r.columns() > 0 ? " + " + r.columns() + " cols" : "", r.weightError(),
                            Double.isNaN(r.outputError()) ? "" : String.format(", output error %.4f", r.outputError()), r.seconds());
                }
            }
        };
        CheckpointLowRank driver = new CheckpointLowRank(new LowRankCompressor(settings));
        CheckpointLowRank.Options opts = new CheckpointLowRank.Options(format, cl.hasOption("force"), dtype, provenance);
        if (!method.needsCalibration() && evals.length == 0) {
            // Weight-only and nothing to evaluate: stream block by block, memory bounded by one block.
            printSummary(console, driver.run(in, out, opts, progress));
            return 0;
        }
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(in, arena);
            Tokenizer tokenizer = Tokenizer.load(in, model.config());
            Calibration calibration = null;
            if (method.needsCalibration()) {
                calibration = "self".equals(calib)
                        ? Calibration.selfGenerated(model, tokenizer, samples, seqLen, seed)
                        : Calibration.fromFile(Path.of(calib), tokenizer, model.config(), samples, seqLen, seed);
                Calibration.Record rec = calibration.record();
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("file", rec.file());
                c.put("samples", rec.samples());
                c.put("seq_len", rec.seqLen());
                c.put("seed", rec.seed());
                provenance.put("calibration", c);
            }
            printSummary(console, driver.run(model, in, out, opts, calibration, progress));
            LlamaModel reference = evals.length == 0 ? null : LlamaModel.load(in, arena);
            for (String text : evals) {
                int[] stream = tokenizer.encode(ModelArgs.readText(Path.of(text)), false);
                int t = evalSeqLen > 0 ? evalSeqLen : EVAL_SEQ_LEN;
                Perplexity.Result before = Perplexity.evaluate(reference, stream, t, maxWindows, null);
                Perplexity.Result after = Perplexity.evaluate(model, stream, t, maxWindows, reference);
                console.out().printf("eval %s: %d windows x %d, %d tokens: NLL %.4f -> %.4f (dNLL %+.4f), ppl %.3f -> %.3f, KL %.4f nats/token%n",
                        text, after.windows(), t, after.tokens(), before.nll(), after.nll(), after.nll() - before.nll(),
                        before.ppl(), after.ppl(), after.kl());
            }
        }
        return 0;
    }

    private static void printSummary(Console console, CheckpointLowRank.Summary s) {
        console.out().printf("%s: %d linears in %d blocks, %,d of %,d values (%.4f), %s written%n", s.output(), s.linears(), s.blocks(),
                s.params(), s.denseParams(), s.ratio(), InspectCommand.human(s.outputBytes()));
    }

    private static LowRankMethod method(CommandLine cl) {
        if (!cl.hasOption("method")) throw new UsageException("--method is required (svd, whitened-svd, asvd, lost, lost-whitened)");
        return usage(() -> LowRankMethod.parse(cl.getOptionValue("method")));
    }

    private static double ratio(CommandLine cl) {
        if (!cl.hasOption("params-ratio")) throw new UsageException("--params-ratio is required, e.g. --params-ratio 0.5");
        double p = number(cl, "params-ratio", Double.NaN);
        if (!(p > 0 && p <= 1)) throw new UsageException("--params-ratio must be in (0, 1], got " + cl.getOptionValue("params-ratio"));
        return p;
    }

    private static DType factorType(String name) {
        DType t = usage(() -> DType.parse(name.toUpperCase(java.util.Locale.ROOT)));
        if (t != DType.F32 && t != DType.F16 && t != DType.BF16) throw new UsageException("--dtype must be F32, F16 or BF16, got " + name);
        return t;
    }

    static double number(CommandLine cl, String opt, double dflt) {
        if (!cl.hasOption(opt)) return dflt;
        String v = cl.getOptionValue(opt);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + opt + " expects a number, got '" + v + "'");
        }
    }

    /** Turns a parse failure of a flag value into a usage error (exit 2). */
    private static <T> T usage(java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (ShrinkException | IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
