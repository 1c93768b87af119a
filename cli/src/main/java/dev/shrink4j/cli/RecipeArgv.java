package dev.shrink4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Recipe ↔ command line: which flags belong to which section of a recipe, and the argument list a
 * stage runs with. One mapping for both directions, so {@code --save-recipe} and {@code run} agree.
 */
final class RecipeArgv {
    private RecipeArgv() {}

    /** Recipe key (calibration section) → flag. */
    static final Map<String, String> CALIBRATION = Map.of("text", "calib", "samples", "samples", "seq_len", "seq-len", "seed", "seed");
    /** Recipe key (evaluation section) → flag; {@code texts} is repeatable, {@code enabled: false} is {@code --no-eval}. */
    static final Map<String, String> EVALUATION = Map.of("texts", "eval", "seq_len", "eval-seq-len", "max_windows", "max-windows");
    /** Flags of the run itself, not of the recipe: where and how to write, not what to compute. */
    static final Set<String> RUN_FLAGS = Set.of("report", "force", "max-memory", "quiet", "save-recipe", "device", "debug", "help", "no-resume", "dry-run");

    /** {@code --flag value} pairs (and bare {@code --flag} for {@code true}) of an option map, in its order. */
    static List<String> options(Map<String, Object> options) {
        List<String> argv = new ArrayList<>();
        for (Map.Entry<String, Object> e : options.entrySet()) {
            Object v = e.getValue();
            if (v instanceof Boolean b) {
                if (b) argv.add("--" + e.getKey());
            } else if (v instanceof List<?> list) {
                for (Object x : list) {
                    argv.add("--" + e.getKey());
                    argv.add(RecipeReader.scalarText(x));
                }
            } else {
                argv.add("--" + e.getKey());
                argv.add(RecipeReader.scalarText(v));
            }
        }
        return argv;
    }

    /**
     * The command line of one stage: its options, the recipe's calibration, no evaluation of its own
     * (the run evaluates every output against the original, not against the stage's input), then IN OUT.
     */
    static String[] stage(Recipe recipe, Recipe.Stage stage, boolean quiet, Path report, Path in, Path out) {
        List<String> argv = new ArrayList<>(options(stage.options()));
        argv.addAll(options(recipe.calibration()));
        argv.add("--no-eval");
        if (quiet) argv.add("--quiet");
        if (report != null) {
            argv.add("--report");
            argv.add(report.toString());
        }
        argv.add(in.toString());
        argv.add(out.toString());
        return argv.toArray(String[]::new);
    }
}
