package dev.shrink4j.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A recipe (docs/recipes.md), checked: what {@code shrink4j run} does. Every option is kept as the
 * command-line flag it stands for ({@code seq_len} → {@code --seq-len}), so a stage runs through its
 * command's own parser and checks, exactly as if typed.
 *
 * @param calibration flag → value shared by every stage ({@code calib}, {@code samples}, {@code seq-len}, {@code seed})
 * @param stages      in order; the last one is run once per output
 * @param evaluation  flag → value of the evaluation every output gets ({@code eval}: a list, {@code eval-seq-len},
 *                    {@code max-windows}, {@code no-eval})
 * @param outputs     at least one
 * @param tree        the recipe as read (maps, lists, scalars): what goes into the output's provenance
 */
record Recipe(Map<String, Object> calibration, List<Stage> stages, Map<String, Object> evaluation, List<Output> outputs, Map<String, Object> tree) {

    /** One stage: a compression command and its own options (flag without dashes → value; Boolean for flags without a value). */
    record Stage(String command, Map<String, Object> options) {
        /** The option's value as typed on a command line, or null when absent. */
        String value(String flag) {
            Object v = options.get(flag);
            return v == null ? null : RecipeReader.scalarText(v);
        }

        /** e.g. {@code quantize --method gptq --bits 4}. */
        String describe() {
            return command + " " + String.join(" ", RecipeArgv.options(options));
        }
    }

    /**
     * One output of the last stage.
     *
     * @param name        a directory name under OUT when there are several; {@code format} or "output" by default
     * @param options     the last stage's options with this output's {@code format} and overrides applied
     * @param maxKl       gate on KL(P_original ‖ P_output) in nats/token, NaN when none
     * @param maxDeltaNll gate on ΔNLL in nats/token, NaN when none
     */
    record Output(String name, Map<String, Object> options, double maxKl, double maxDeltaNll) {
        boolean gated() {
            return !Double.isNaN(maxKl) || !Double.isNaN(maxDeltaNll);
        }
    }

    /** The last stage as {@code output} runs it. */
    Stage lastStageFor(Output output) {
        return new Stage(stages.getLast().command(), output.options());
    }

    /** "prune 2ssp → quantize guidedquant". */
    String describe() {
        List<String> parts = new ArrayList<>();
        for (Stage s : stages) parts.add(s.command() + (s.options().containsKey("method") ? " " + s.value("method") : ""));
        return String.join(" → ", parts);
    }

    boolean evaluates() {
        return !evaluation.containsKey("no-eval");
    }
}
