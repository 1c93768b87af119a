package dev.shrink4j.cli;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.gguf.GgufFile;
import dev.shrink4j.tensors.io.AbandonedOutputs;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code shrink4j run RECIPE IN OUT}: the stages of a recipe (docs/recipes.md) one after the other,
 * the last once per output, each output reloaded from disk and scored against IN, and only those
 * within their quality gates committed. Everything is checked before any work (exit 2); a gate that
 * fails leaves that output unwritten and the run exits 3.
 */
final class RunCommand implements Command {
    /** Exit status when an output failed its quality gate (the others were written). */
    static final int GATE_FAILED = 3;

    @Override
    public String name() {
        return "run";
    }

    @Override
    public String summary() {
        return "run a recipe: prune, lowrank and quantize stages in order, outputs gated by measured quality";
    }

    @Override
    public String arguments() {
        return "RECIPE IN OUT";
    }

    @Override
    public String footer() {
        return """

                RECIPE is YAML (or JSON when it ends in .json); the schema is in docs/recipes.md. Each stage runs its command
                (quantize, prune, lowrank) with the recipe's calibration on the previous stage's output; every output is
                reloaded and scored against IN (KL, ΔNLL). With one output OUT is that checkpoint, with several OUT holds one
                directory per output name. Exit 3: an output was over its max_kl or max_delta_nll and was not written.
                --save-recipe FILE on quantize, prune and lowrank writes the recipe their command line means.
                Example: shrink4j run examples/recipes/2ssp-guidedquant3.yaml examples/stories260K /tmp/stories-recipe""";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("report").hasArg().argName("DIR").desc("write report.json and report.md there (and one report per stage)").build());
        o.addOption(Option.builder().longOpt("force").desc("replace OUT if it exists").build());
        o.addOption(Option.builder().longOpt("quiet").desc("no progress on stderr").build());
        o.addOption(CompressionRun.dryRunOption());
        o.addOption(Option.builder().longOpt("no-resume")
                .desc("start over even when a killed run of this recipe left finished stages to continue from (default: continue; docs/reliability.md)").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) throws Exception {
        Args args = new Args(cl);
        List<String> paths = args.positionals("RECIPE", "IN", "OUT");
        Path recipeFile = Path.of(paths.get(0));
        Recipe recipe = RecipeReader.read(recipeFile);
        RecipeCheck.check(recipe, "RECIPE " + recipeFile);
        Path in = Args.inputDir("IN", Path.of(paths.get(1)));
        Path out = args.output(in, paths.get(2));
        checkFiles(recipe);
        if (args.has("dry-run")) {
            DryRun.printRecipe(recipe, in, out, console.out());
            return 0;
        }
        boolean quiet = args.has("quiet");
        Path reportDir = args.has("report") ? Path.of(args.string("report", null)) : null;
        Progress progress = new Progress(console.err(), quiet);
        Report report = new Report("run", Report.argv("run", cl));
        report.put("recipe_file", recipeFile.toString());
        report.put("recipe", recipe.tree());
        report.put("input", in.toString());
        report.put("output", out.toString());
        long started = System.nanoTime();

        Path abs = out.toAbsolutePath().normalize();
        for (Path stale : AbandonedOutputs.remove(abs)) progress.note("note: removed " + stale + ", the unfinished output of an earlier run that was killed");
        String inputSha256;
        try (var t = report.stage("hash IN")) {
            progress.stage("hash " + in, 0);
            inputSha256 = RecipeProvenance.sha256(Path.of(paths.get(1)));
        }
        report.put("input_sha256", inputSha256);
        // Stages and outputs are built in one hidden sibling of OUT, so nothing appears under OUT until the
        // end; a killed run leaves it, and the same command continues from the stages it finished.
        Path work = RecipeResume.open(abs, recipe.tree(), inputSha256, args.has("no-resume"), progress::note);
        try (PeakMemory memory = new PeakMemory(); Arena arena = Arena.ofShared()) {
            int total = recipe.stages().size() - 1 + recipe.outputs().size();
            int step = 0;
            Path current = in;
            List<Recipe.Stage> stages = recipe.stages();
            for (int i = 0; i + 1 < stages.size(); i++) {
                Path next = work.resolve("stage-" + (i + 1));
                if (Files.isDirectory(next)) { // committed by its command in the interrupted run
                    progress.note("resume: stage " + (i + 1) + "/" + stages.size() + " (" + stages.get(i).command() + ") finished in the interrupted run");
                    step++;
                    current = next;
                    continue;
                }
                runStage(recipe, stages.get(i), ++step, total, "stage " + (i + 1) + "/" + stages.size(), current, next, quiet,
                        reportDir == null ? null : reportDir.resolve("stage-" + (i + 1) + "-" + stages.get(i).command()), console, report);
                current = next;
            }

            LlamaModel original = LlamaModel.load(in, arena);
            long weights = CompressionRun.blockLinearWeights(original);
            OutputScoring scoring = new OutputScoring(recipe, original, in, progress, report, arena);
            List<Map<String, Object>> rows = new ArrayList<>();
            List<String> refusals = new ArrayList<>();
            Map<String, Path> passed = new LinkedHashMap<>();
            for (Recipe.Output o : recipe.outputs()) {
                boolean gguf = "gguf".equals(o.options().get("format") == null ? null : RecipeReader.scalarText(o.options().get("format")));
                Path staged = work.resolve("out-" + o.name() + (gguf ? ".gguf" : ""));
                String label = "stage " + stages.size() + "/" + stages.size() + (recipe.outputs().size() > 1 ? ", output " + o.name() : "");
                if (Files.exists(staged)) { // committed by its command in the interrupted run
                    progress.note("resume: output " + o.name() + " finished in the interrupted run");
                    step++;
                } else {
                    runStage(recipe, recipe.lastStageFor(o), ++step, total, label, current, staged, quiet,
                            reportDir == null ? null : reportDir.resolve("output-" + o.name()), console, report);
                }
                boolean recorded = RecipeProvenance.record(staged, recipe.tree(), inputSha256);
                Map<String, Object> row = scoring.score(o, staged, weights);
                row.put("provenance", recorded ? "config.json shrink4j.provenance" : "report only (no config.json in this format)");
                String refusal = OutputScoring.gate(o, row);
                row.put("gate", refusal == null ? (o.gated() ? "passed" : "none") : "failed: " + refusal);
                if (refusal == null) passed.put(o.name(), staged);
                else refusals.add("output " + o.name() + " not written: " + refusal);
                rows.add(row);
            }
            try (var t = report.stage("commit")) {
                commit(recipe, passed, work, abs, args.has("force"), rows);
            }
            memory.sample();
            report.memory(memory);
            report.put("outputs", rows);
            report.put("seconds", (System.nanoTime() - started) / 1e9);
            printSummary(console, recipe, rows, report, memory, (System.nanoTime() - started) / 1e9);
            if (reportDir != null) {
                try {
                    report.write(reportDir);
                } catch (IOException e) {
                    throw new ShrinkException("--report " + reportDir + ": cannot write (" + e.getMessage() + ")", e);
                }
                console.out().println("report: " + reportDir.resolve("report.md"));
            }
            for (String r : refusals) console.err().println("shrink4j run: " + r);
            return refusals.isEmpty() ? 0 : GATE_FAILED;
        } finally {
            deleteTree(work);
        }
    }

    /** Files the recipe names (calibration text, evaluation texts) are read before any work: a missing one is exit 1 now, not after an hour. */
    private static void checkFiles(Recipe recipe) {
        Object calib = recipe.calibration().get("calib");
        if (calib != null && !List.of("self", "random").contains(RecipeReader.scalarText(calib))) {
            Args.readText("calibration.text", Path.of(RecipeReader.scalarText(calib)));
        }
        if (recipe.evaluation().get("eval") instanceof List<?> texts) {
            for (Object t : texts) Args.readText("evaluation.texts", Path.of(RecipeReader.scalarText(t)));
        }
    }

    /** One stage through its own command, as if typed; its result block goes to stdout under a header. */
    private static void runStage(Recipe recipe, Recipe.Stage stage, int step, int total, String label, Path in, Path out, boolean quiet,
                                 Path stageReport, Console console, Report report) throws Exception {
        Command command = Main.command(stage.command());
        String[] argv = RecipeArgv.stage(recipe, stage, quiet, stageReport, in, out);
        console.out().println("== " + label + ": " + stage.describe());
        if (!quiet) console.err().printf(Locale.ROOT, "recipe step %d/%d: %s%n", step, total, stage.describe());
        CommandLine cl = Main.parser().parse(Main.optionsOf(command), argv);
        try (var t = report.stage(label + " " + stage.command())) {
            int status = command.run(cl, console);
            if (status != 0) throw new ShrinkException(label + " (" + stage.describe() + ") exited with status " + status);
        }
    }

    /**
     * Moves the outputs that passed into OUT: with one output OUT is it; with several, OUT is a directory
     * of them. An existing OUT is replaced (--force) only now, after everything passed or failed.
     */
    private static void commit(Recipe recipe, Map<String, Path> passed, Path work, Path out, boolean force, List<Map<String, Object>> rows) throws IOException {
        for (Map<String, Object> row : rows) row.put("written", false);
        if (passed.isEmpty()) return;
        Path ready;
        if (recipe.outputs().size() == 1) {
            ready = passed.values().iterator().next();
        } else {
            ready = work.resolve("final");
            Files.createDirectories(ready);
            for (Map.Entry<String, Path> e : passed.entrySet()) Files.move(e.getValue(), ready.resolve(e.getValue().getFileName().toString().substring("out-".length())));
        }
        if (Files.exists(out) && force) deleteTree(out);
        Files.move(ready, out, StandardCopyOption.ATOMIC_MOVE);
        for (Map<String, Object> row : rows) {
            String name = (String) row.get("name");
            if (!passed.containsKey(name)) continue;
            row.put("written", true);
            row.put("path", recipe.outputs().size() == 1 ? out.toString() : out.resolve(passed.get(name).getFileName().toString().substring("out-".length())).toString());
        }
    }

    private static void printSummary(Console console, Recipe recipe, List<Map<String, Object>> rows, Report report, PeakMemory memory, double seconds) {
        var o = console.out();
        o.printf(Locale.ROOT, "recipe: %s, %d output%s%n", recipe.describe(), rows.size(), rows.size() == 1 ? "" : "s");
        o.printf(Locale.ROOT, "%-14s %-18s %10s %8s %10s %8s  %s%n", "output", "format", "size", "bits/w", "ΔNLL", "KL", "gate");
        for (Map<String, Object> r : rows) {
            o.printf(Locale.ROOT, "%-14s %-18s %10s %8.3f %10s %8s  %s%s%n", r.get("name"), r.get("format"), CompressionRun.human((Long) r.get("bytes")),
                    (Double) r.get("bits_per_weight"), r.containsKey("delta_nll") ? String.format(Locale.ROOT, "%+.4f", (Double) r.get("delta_nll")) : "-",
                    r.containsKey("kl") ? String.format(Locale.ROOT, "%.4f", (Double) r.get("kl")) : "-", r.get("gate"),
                    Boolean.TRUE.equals(r.get("written")) ? ", written to " + r.get("path") : ", not written");
        }
        StringBuilder time = new StringBuilder("time: ");
        report.stages().forEach((k, v) -> time.append(String.format(Locale.ROOT, "%s %.1f s, ", k, v)));
        time.append(String.format(Locale.ROOT, "total %.1f s", seconds));
        o.println(time);
        if (memory.peakAnonBytes() > 0) o.printf(Locale.ROOT, "peak RssAnon %.1f MiB%n", memory.peakAnonBytes() / 1048576.0);
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a hidden working directory; a later run removes what is left (AbandonedOutputs)
        }
    }

    /** Reloads each output from disk and scores it against IN on the recipe's evaluation texts. */
    static final class OutputScoring {
        private final EvalSupport eval;
        private final LlamaModel original;
        private final Arena arena;
        private final String stageCommand;
        private int rowsSeen;

        OutputScoring(Recipe recipe, LlamaModel original, Path in, Progress progress, Report report, Arena arena) throws Exception {
            this.original = original;
            this.arena = arena;
            this.stageCommand = recipe.stages().getLast().command();
            Options o = new Options();
            EvalSupport.addOptions(o);
            CompressionRun.addCalibrationOptions(o, 1, "");
            List<String> argv = new ArrayList<>(RecipeArgv.options(recipe.evaluation()));
            argv.addAll(RecipeArgv.options(recipe.calibration()));
            Args args = new Args(Main.parser().parse(o, argv.toArray(String[]::new)));
            Tokenizer tok = args.has("eval") ? Tokenizer.load(in, original.config()) : null;
            try (var t = report.stage("evaluate IN")) {
                this.eval = EvalSupport.fromCommandLine(args, original, tok, args.longValue("seed", 0), progress);
                eval.before(original);
            }
        }

        /** Size, bits/weight and (when evaluating) the worst ΔNLL and KL over the texts, with one row per text. */
        Map<String, Object> score(Recipe.Output o, Path staged, long weights) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", o.name());
            row.put("format", o.options().get("format") == null ? defaultFormat(o) : RecipeReader.scalarText(o.options().get("format")));
            row.put("bytes", CompressionRun.safetensorsBytes(staged));
            row.put("bits_per_weight", 8.0 * CompressionRun.blockLinearBytes(staged) / weights);
            if (!Double.isNaN(o.maxKl())) row.put("max_kl", o.maxKl());
            if (!Double.isNaN(o.maxDeltaNll())) row.put("max_delta_nll", o.maxDeltaNll());
            if (!eval.enabled()) return row;
            Path readable = GgufFile.looksLikeGguf(staged) ? GgufInput.asCheckpointDir("output " + o.name(), staged) : staged;
            List<Map<String, Object>> all = eval.after(LlamaModel.load(readable, arena), original);
            List<Map<String, Object>> mine = List.copyOf(all.subList(rowsSeen, all.size()));
            rowsSeen = all.size();
            double kl = 0, dnll = Double.NEGATIVE_INFINITY;
            for (Map<String, Object> r : mine) {
                kl = Math.max(kl, (Double) r.get("kl"));
                dnll = Math.max(dnll, (Double) r.get("delta_nll"));
            }
            row.put("delta_nll", dnll);
            row.put("kl", kl);
            row.put("eval", mine);
            return row;
        }

        /** The format the last stage's command writes when none is named. */
        private String defaultFormat(Recipe.Output o) {
            return stageCommand.equals("prune") ? "auto" : "shrink4j";
        }

        /** Why {@code o} fails its gate (the worst text's figure against the bound), or null when it passes or has none. */
        static String gate(Recipe.Output o, Map<String, Object> row) {
            List<String> over = new ArrayList<>();
            if (!Double.isNaN(o.maxKl()) && (Double) row.get("kl") > o.maxKl()) {
                over.add(String.format(Locale.ROOT, "KL %.4f > max_kl %s", (Double) row.get("kl"), RecipeReader.scalarText(o.maxKl())));
            }
            if (!Double.isNaN(o.maxDeltaNll()) && (Double) row.get("delta_nll") > o.maxDeltaNll()) {
                over.add(String.format(Locale.ROOT, "ΔNLL %+.4f > max_delta_nll %s", (Double) row.get("delta_nll"), RecipeReader.scalarText(o.maxDeltaNll())));
            }
            return over.isEmpty() ? null : String.join(" and ", over) + " nats/token (worst evaluation text)";
        }
    }
}
