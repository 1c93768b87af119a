package dev.shrink4j.cli;

import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.SelfCalibration;
import dev.shrink4j.model.Tokenizer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.commons.cli.CommandLine;

/**
 * {@code --dry-run} on quantize, prune, lowrank and run: what the run would cost, printed without
 * computing or writing anything. The command's options are checked as for a real run first (a bad
 * flag is still one line, exit 2); then IN's config.json and safetensors headers are read, the machine
 * is probed for half a second ({@link MachineProbe}), and one block is printed:
 * <pre>
 *   dry run: WHAT on IN (nothing computed, nothing written)
 *   probe: GEMM … GFLOP/s, matvec … GFLOP/s at width K; JVM start-up … s; load average …
 *   stages, in order:
 *     1. NAME   SECONDS   WORK
 *   estimated wall time: … s
 *   estimated peak RssAnon: … (the parts)
 *   estimated output: FORMAT SIZE, block linears B bits/weight
 * </pre>
 * Estimates: time from {@link CostModel}, memory from {@link HeapPlan}, size from {@link OutputSizeModel}.
 */
final class DryRun {
    /** One command's estimate: its steps, memory and output size. */
    record Estimate(String what, List<CostModel.Step> steps, long peakAnonBytes, String memoryParts, OutputSizeModel.Size output) {
        double seconds() {
            return steps.stream().mapToDouble(CostModel.Step::seconds).sum();
        }
    }

    private DryRun() {}

    /** Probes the machine at IN's width, estimates and prints; the caller returns 0. */
    static void print(String command, CommandLine cl, Path in, PrintStream out) {
        ModelConfig c = ModelConfig.load(in);
        MachineProbe probe = MachineProbe.measure(c.hiddenSize());
        Estimate e = estimate(command, cl, in, probe);
        header(out, e.what(), in, probe, c);
        printSteps(out, e.steps());
        footer(out, e);
    }

    /** The estimate for a parsed command line at a given probe: deterministic for a fixed probe. */
    static Estimate estimate(String command, CommandLine cl, Path in, MachineProbe probe) {
        Args args = new Args(cl);
        ModelConfig c = ModelConfig.load(in);
        CostModel model = new CostModel(c, probe);
        CostModel.Job job = job(command, args, c, in);
        HeapPlan.Plan plan = HeapPlan.plan(command, cl);
        OutputSizeModel.Size size = OutputSizeModel.estimate(in, c, model, layout(command, args));
        String what = command + " " + job.method() + (command.equals("quantize") ? " " + job.bits() + "-bit" : "");
        return new Estimate(what, model.steps(job), plan.expectedPeak(), plan.describeExpected(), size);
    }

    static void header(PrintStream out, String what, Path in, MachineProbe probe, ModelConfig c) {
        out.printf(Locale.ROOT, "dry run: %s on %s (%d blocks, hidden %d, vocab %d): nothing computed, nothing written%n",
                what, in, c.numLayers(), c.hiddenSize(), c.vocabSize());
        out.printf(Locale.ROOT, "probe: GEMM %.2f GFLOP/s at width %d, streaming %.2f GFLOP/s, parallel hand-off %.1f µs; JVM start-up %.2f s, JIT %.2f s; load average %s on %d CPUs%n",
                probe.gemmFlops() / 1e9, MachineProbe.width(c.hiddenSize()), probe.matvecFlops() / 1e9, probe.handoffSeconds() * 1e6, probe.jitSeconds(), probe.startupSeconds(),
                Double.isNaN(probe.loadAverage()) ? "unknown" : String.format(Locale.ROOT, "%.2f", probe.loadAverage()),
                Runtime.getRuntime().availableProcessors());
    }

    static void printSteps(PrintStream out, List<CostModel.Step> steps) {
        out.println("stages, in order:");
        int i = 1;
        for (CostModel.Step s : steps) out.printf(Locale.ROOT, "  %2d. %-28s %16s  %s%n", i++, s.name(), seconds(s.seconds()), s.work());
    }

    static void footer(PrintStream out, Estimate e) {
        out.printf(Locale.ROOT, "estimated wall time: %s%n", seconds(e.seconds()));
        out.printf(Locale.ROOT, "estimated peak RssAnon: %s (%s)%n", InspectCommand.human(e.peakAnonBytes()), e.memoryParts());
        output(out, e.output());
    }

    static void output(PrintStream out, OutputSizeModel.Size s) {
        out.printf(Locale.ROOT, "estimated output: %s %s, block linears %.3f bits/weight%n", s.format(), InspectCommand.human(s.bytes()), s.bitsPerWeight());
    }

    /** "12.3 s", "250.0 s (4.2 min)", "9000.0 s (2.5 h)": seconds always first, for scripts. */
    static String seconds(double s) {
        String base = String.format(Locale.ROOT, "%.1f s", s);
        return s < 100 ? base : s < 6000 ? base + String.format(Locale.ROOT, " (%.1f min)", s / 60) : base + String.format(Locale.ROOT, " (%.1f h)", s / 3600);
    }

    /**
     * {@code run RECIPE --dry-run}: every stage in the order the run takes them, each estimated on IN's shapes
     * (an upper bound for a stage after a prune or lowrank stage, which shrink the model it reads), the last
     * stage once per output, then the evaluation; the peak is the largest stage's.
     */
    static void printRecipe(Recipe recipe, Path in, Path out, PrintStream print) throws org.apache.commons.cli.ParseException {
        ModelConfig c = ModelConfig.load(in);
        MachineProbe probe = MachineProbe.measure(c.hiddenSize());
        List<CostModel.Step> steps = new ArrayList<>();
        steps.add(new CostModel.Step("start-up and hash IN", probe.startupSeconds(), "JVM start-up as measured by this dry run; checksums of IN (resume fingerprint)"));
        long peak = 0;
        String memory = "";
        List<Recipe.Stage> stages = recipe.stages();
        List<OutputSizeModel.Size> sizes = new ArrayList<>();
        List<Recipe.Output> outputs = recipe.outputs();
        int S = stages.size();
        for (int i = 0; i < S - 1 + outputs.size(); i++) {
            boolean last = i >= S - 1;
            Recipe.Stage stage = last ? recipe.lastStageFor(outputs.get(i - (S - 1))) : stages.get(i);
            String label = "stage " + Math.min(i + 1, S) + "/" + S + (last && outputs.size() > 1 ? " (" + outputs.get(i - (S - 1)).name() + ")" : "");
            Estimate e = estimate(stage.command(), parse(stage, recipe, in, out, false), in, probe);
            for (CostModel.Step s : e.steps().subList(1, e.steps().size())) steps.add(new CostModel.Step(label + ": " + s.name(), s.seconds(), s.work()));
            if (e.peakAnonBytes() > peak) {
                peak = e.peakAnonBytes();
                memory = label + " " + stage.command() + ": " + e.memoryParts();
            }
            if (last) sizes.add(e.output());
        }
        if (recipe.evaluates()) {
            Recipe.Stage lastStage = stages.getLast();
            CostModel.Job job = job(lastStage.command(), new Args(parse(lastStage, recipe, in, out, true)), c, in);
            steps.addAll(new CostModel(c, probe).evaluation(job, outputs.stream().map(Recipe.Output::name).toList()));
        }
        header(print, "run " + recipe.describe(), in, probe, c);
        if (S > 1) print.println("note: stages after the first are estimated on IN's shapes (an upper bound after prune or lowrank)");
        printSteps(print, steps);
        print.printf(Locale.ROOT, "estimated wall time: %s%n", seconds(steps.stream().mapToDouble(CostModel.Step::seconds).sum()));
        print.printf(Locale.ROOT, "estimated peak RssAnon: %s (the largest stage, %s)%n", InspectCommand.human(peak), memory);
        for (int j = 0; j < outputs.size(); j++) {
            print.print(outputs.size() > 1 ? "output " + outputs.get(j).name() + ": " : "");
            output(print, sizes.get(j));
        }
    }

    /** A stage's command line as the run gives it (RecipeArgv.stage), or with the recipe's evaluation instead of --no-eval. */
    private static CommandLine parse(Recipe.Stage stage, Recipe recipe, Path in, Path out, boolean withEvaluation) throws org.apache.commons.cli.ParseException {
        List<String> argv = new ArrayList<>(List.of(RecipeArgv.stage(recipe, stage, true, null, in, out)));
        if (withEvaluation) {
            argv.remove("--no-eval");
            argv.addAll(argv.size() - 2, RecipeArgv.options(recipe.evaluation()));
        }
        Command command = Main.command(stage.command());
        return Main.parser().parse(Main.optionsOf(command), argv.toArray(String[]::new));
    }

    /** The job a command line means, with each command's defaults (quantize, prune, lowrank). */
    static CostModel.Job job(String command, Args args, ModelConfig c, Path in) {
        String method = switch (command) {
            case "quantize" -> args.string("method", "guidedquant");
            default -> args.string("method", "");
        };
        String base = method.equals("requant") ? args.string("base", "squeezellm") : method;
        boolean dataFree = switch (command) {
            case "quantize" -> method.equals("rtn") && !args.has("calib");
            case "prune" -> method.equals("magnitude");
            default -> !List.of("whitened-svd", "asvd", "lost-whitened").contains(method);
        };
        int defaultSamples = command.equals("prune") ? (method.equals("depth") ? 1 : List.of("2ssp", "width").contains(method) ? 32 : 128)
                : QuantizeCommand.DEFAULT_SAMPLES;
        String calib = dataFree ? "none" : args.string("calib", "self");
        int samples = dataFree ? 0 : args.integer("samples", defaultSamples, 1);
        int seqLen = args.integer("seq-len", c.defaultSeqLen(), 2, c.maxPositions());
        if (calib.equals("self")) {
            SelfCalibration.Size size = SelfCalibration.of(c, SelfCalibration.parameters(c), samples, seqLen, args.has("samples") || args.has("seq-len"));
            samples = size.samples();
            seqLen = size.seqLen();
        }
        int evalWindows = 0, evalGenerated = 0;
        int evalT = args.integer("eval-seq-len", Math.min(256, c.maxPositions()), 2, c.maxPositions());
        if (!args.has("no-eval")) {
            int maxWindows = args.integer("max-windows", 0, 1);
            List<Integer> perText = new ArrayList<>();
            if (args.has("eval")) {
                Tokenizer tok = Tokenizer.load(in, c);
                for (String file : args.commandLine().getOptionValues("eval")) {
                    perText.add(Perplexity.windowCount(tok.encode(Args.readText("--eval", Path.of(file)), false).length, evalT));
                }
            } else {
                evalGenerated = 16; // EvalSupport's SELF_EVAL_SEQUENCES
                perText.add(Perplexity.windowCount(evalGenerated * (evalT - 1), evalT));
            }
            for (int w : perText) evalWindows += maxWindows > 0 ? Math.min(w, maxWindows) : w;
        }
        int groups = method.equals("guidedquant") || method.equals("guided-gptq") ? args.integer("guided-groups", 4, 1) : 1;
        int bits = command.equals("quantize") ? args.integer("bits", 4, 2) : 16;
        return new CostModel.Job(command, method, base, calib, samples, seqLen, evalWindows, evalT, evalGenerated, groups, bits);
    }

    /** How the output stores its block linears, from the command line (each command's defaults). */
    static OutputSizeModel.Layout layout(String command, Args args) {
        return switch (command) {
            case "quantize" -> {
                String format = args.string("format", "shrink4j");
                String method = args.string("method", "guidedquant");
                String base = method.equals("requant") ? args.string("base", "squeezellm") : method;
                boolean lut = List.of("squeezellm", "lnq", "guidedquant").contains(base);
                boolean small = format.equals("jlama-q4") || format.equals("gguf");
                int group = lut ? args.integer("lut-group", 0, 1) : args.integer("group-size", small ? 32 : 128, 1);
                double sparse = method.equals("requant")
                        ? args.fraction("outlier-ratio", dev.shrink4j.quantize.ReQuantOptions.DEFAULT_OUTLIER_RATIO, 0, 0.5, true)
                          + args.fraction("significant-ratio", dev.shrink4j.quantize.ReQuantOptions.DEFAULT_SIGNIFICANT_RATIO, 0, 0.5, true)
                        : 0;
                double target = args.has("target-bpw") ? args.number("target-bpw", Double.NaN, 0, 32) : Double.NaN;
                OutputSizeModel.Head head = args.has("head-bits") || args.has("quantize-embeddings")
                        ? new OutputSizeModel.Head(args.integer("head-bits", 0, 0), args.integer("quantize-embeddings", 0, 0), args.integer("head-group-size", 32, 1))
                        : null;
                yield new OutputSizeModel.Layout(command, format, lut, args.integer("bits", 4, 2), group, args.has("sym") || format.equals("jlama-q4"),
                        1, 0, false, sparse, target, head);
            }
            case "prune" -> {
                String method = args.string("method", "");
                boolean structured = List.of("2ssp", "width", "depth").contains(method);
                String pattern = args.string("pattern", "unstructured");
                int m = 0;
                double keep;
                if (!pattern.equals("unstructured")) {
                    String[] nm = pattern.split(":");
                    m = Integer.parseInt(nm[1]);
                    keep = Double.parseDouble(nm[0]) / m;
                } else {
                    keep = 1 - args.fraction("sparsity", 0, 0, 1, true);
                }
                String format = args.string("format", "auto");
                if (format.equals("auto")) format = structured ? "dense" : m > 0 ? "nm" : "csr";
                yield new OutputSizeModel.Layout(command, format, false, 16, 0, false, keep, m, structured, 0, Double.NaN);
            }
            default -> new OutputSizeModel.Layout(command, args.string("format", "shrink4j"), false, 16, 0, false,
                    args.fraction("params-ratio", 1, 0, true, 1, false), 0, false, 0, Double.NaN);
        };
    }
}
