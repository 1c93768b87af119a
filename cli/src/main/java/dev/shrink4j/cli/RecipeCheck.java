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
            String why = whyCannotFollow(stages.get(i), stages.get(i + 1));
            if (why == null && keepsStructure(stages.get(i)) && i + 2 == stages.size()) {
                for (Recipe.Output o : recipe.outputs()) {
                    String format = lower(recipe.lastStageFor(o).value("format"));
                    if (format != null && !format.equals("shrink4j") && !format.equals("dense")) {
                        why = "the quantize stage keeps " + stages.get(i).command() + "'s structure, which output format " + format
                                + " cannot hold (output " + o.name() + "): use format shrink4j";
                        break;
                    }
                }
            }
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
     * Why {@code next} cannot read what {@code stage} writes, or null when it can (docs/recipes.md "What
     * composes"). Prune and lowrank read dense weights only. Quantize reads a dense checkpoint, and an N:M
     * one (kept values quantized, the mask kept) or a factorized one (each factor quantized) with rtn or
     * gptq; CSR layers and the other methods have no quantized form yet.
     */
    static String whyCannotFollow(Recipe.Stage stage, Recipe.Stage next) {
        String method = lower(stage.value("method"));
        String format = lower(stage.value("format"));
        if (stage.command().equals("quantize")) {
            return "quantize writes codes, and no later stage reads them (prune and lowrank read dense weights;"
                    + " quantizing twice compounds the error): put quantize last";
        }
        if (!keepsStructure(stage)) return null;
        String writes = stage.command().equals("lowrank") ? "lowrank writes factors (format shrink4j)"
                : "prune " + method + " writes " + (nm(stage) ? "N:M-sparse layers (format nm)" : "sparse layers (format " + (format == null ? "auto: csr" : format) + ")");
        String dense = stage.command().equals("lowrank") ? "give the lowrank stage format: dense to compose merged weights"
                : "give the prune stage format: dense to compose its zeros as dense weights";
        if (!next.command().equals("quantize")) {
            return writes + " and " + next.command() + " reads dense weights only: " + dense;
        }
        if (stage.command().equals("prune") && !nm(stage)) {
            return writes + "; quantized sparse layers are built for N:M (pattern 2:4, format nm or auto) only: " + dense;
        }
        String qm = lower(next.value("method"));
        if (!"rtn".equals(qm) && !"gptq".equals(qm)) {
            return writes + ", whose structure quantize keeps with method rtn or gptq only (got " + (qm == null ? "the default guidedquant" : qm)
                    + "): give method: rtn or gptq, or " + dense;
        }
        if (next.value("target-bpw") != null) return writes + "; target_bpw over those layers is not built: give bits";
        return null;
    }

    /** Whether {@code stage} writes layers that are not plain dense weights (sparse or factorized). */
    private static boolean keepsStructure(Recipe.Stage stage) {
        String method = lower(stage.value("method"));
        String format = lower(stage.value("format"));
        return switch (stage.command()) {
            case "lowrank" -> !"dense".equals(format);
            case "prune" -> !List.of("2ssp", "width", "depth").contains(method) && !"dense".equals(format);
            default -> false;
        };
    }

    /** A prune stage that writes N:M layers: an N:M pattern, format nm or auto. */
    private static boolean nm(Recipe.Stage stage) {
        String format = lower(stage.value("format"));
        String pattern = lower(stage.value("pattern"));
        return pattern != null && !pattern.equals("unstructured") && (format == null || format.equals("auto") || format.equals("nm"));
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
