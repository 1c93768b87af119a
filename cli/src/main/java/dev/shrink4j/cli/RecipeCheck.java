package dev.shrink4j.cli;

import dev.shrink4j.tensors.ShrinkException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.ParseException;

/**
 * Everything about a recipe that can be refused before any work (exit 2, nothing written): a
 * composition the formats cannot hold, and every stage's option values, checked by the stage's own
 * command.
 */
final class RecipeCheck {
    /**
     * Never exists: a command given it as IN refuses it only after all its options were checked (the
     * order every compression command follows: parse and check, then open IN), so reaching that refusal
     * means the options are fine.
     */
    private static final Path PROBE_IN = Path.of("/nonexistent-shrink4j-recipe-probe/IN");
    private static final Path PROBE_OUT = Path.of("/nonexistent-shrink4j-recipe-probe/OUT");

    private RecipeCheck() {}

    /** Refuses the first composition the formats cannot hold and the first bad option value, naming where. */
    static void check(Recipe recipe, String label) {
        List<Recipe.Stage> stages = recipe.stages();
        for (int i = 0; i + 1 < stages.size(); i++) {
            String why = whyNothingCanFollow(stages.get(i));
            if (why != null) {
                throw new UsageException(label + ": stages[" + i + "] " + stages.get(i).command() + " then stages[" + (i + 1) + "] "
                        + stages.get(i + 1).command() + ": cannot be composed yet: " + why);
            }
        }
        for (int i = 0; i + 1 < stages.size(); i++) probe(recipe, stages.get(i), label + ": stages[" + i + "]." + stages.get(i).command());
        for (int j = 0; j < recipe.outputs().size(); j++) {
            Recipe.Output o = recipe.outputs().get(j);
            String where = recipe.outputs().size() == 1 && o.options().equals(stages.getLast().options())
                    ? "stages[" + (stages.size() - 1) + "]." + stages.getLast().command()
                    : "outputs[" + j + "] (" + o.name() + ")";
            probe(recipe, recipe.lastStageFor(o), label + ": " + where);
        }
    }

    /**
     * Why no stage can read what {@code stage} writes, or null when its output is a dense checkpoint
     * (docs/recipes.md "What composes"). Prune and lowrank read dense weights only; quantize reads any
     * checkpoint but dequantizes it, which would silently undo a sparse or factorized layout.
     */
    static String whyNothingCanFollow(Recipe.Stage stage) {
        String method = lower(stage.value("method"));
        String format = lower(stage.value("format"));
        return switch (stage.command()) {
            case "quantize" -> "quantize writes codes, and no later stage reads them (prune and lowrank read dense weights;"
                    + " quantizing twice compounds the error): put quantize last";
            case "lowrank" -> "dense".equals(format) ? null
                    : "lowrank writes factors (format shrink4j) and a later stage would read them merged back into dense"
                    + " weights; quantized low-rank factors are not built yet: give the lowrank stage format: dense to compose merged weights";
            default -> {
                boolean structured = List.of("2ssp", "width", "depth").contains(method);
                yield structured || "dense".equals(format) ? null
                        : "prune " + method + " writes sparse layers (format " + (format == null ? "auto: csr or nm" : format) + ") and a later stage"
                        + " would read them densified; sparse layers with quantized values are not built yet: give the prune stage format: dense"
                        + " to compose its zeros as dense weights";
            }
        };
    }

    private static String lower(String s) {
        return s == null ? null : s.toLowerCase(Locale.ROOT);
    }

    /** Runs the stage's command on {@link #PROBE_IN}: a usage error is the stage's; the refusal of IN means its options passed. */
    private static void probe(Recipe recipe, Recipe.Stage stage, String where) {
        Command command = Main.command(stage.command());
        String[] argv = RecipeArgv.stage(recipe, stage, true, null, PROBE_IN, PROBE_OUT);
        CommandLine cl;
        try {
            cl = Main.parser().parse(Main.optionsOf(command), argv);
        } catch (ParseException e) {
            throw new UsageException(where + ": " + Main.parseMessage(e, Main.optionsOf(command)));
        }
        try {
            command.run(cl, new Console(nullStream(), nullStream()));
        } catch (UsageException e) {
            throw new UsageException(where + ": " + e.getMessage());
        } catch (ShrinkException e) {
            if (e.getMessage().startsWith("IN " + PROBE_IN)) return;
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(where + ": checking the options failed: " + e, e);
        }
        throw new IllegalStateException(where + ": the options check reached no input (" + stage.command() + " read " + PROBE_IN + ")");
    }

    private static java.io.PrintStream nullStream() {
        return new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
    }
}
