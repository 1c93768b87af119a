package dev.shrink4j.cli;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.quantize.MixedPrecision;
import dev.shrink4j.quantize.ModuleOverrides;
import dev.shrink4j.quantize.OutputFormat;
import dev.shrink4j.quantize.QuantizeOptions;
import dev.shrink4j.quantize.ReQuantOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code quantize}'s per-module settings: {@code --override} rules and {@code --target-bpw}'s mixed
 * precision (docs/recipes.md), checked before any work, the allocation measured and reported, and a rule
 * that matches no module named in a warning.
 */
final class QuantizeOverrides {
    private QuantizeOverrides() {}

    /** {@code --override} rules, checked against the run's method and format; none when the flag is absent. */
    static ModuleOverrides overrides(Args args, QuantizeOptions qo, ReQuantOptions rq, OutputFormat format) {
        if (!args.has("override")) return ModuleOverrides.NONE;
        if (rq != null) throw new UsageException("--override applies to the quantizers, not requant (its outliers are chosen per module already)");
        if (format != OutputFormat.SHRINK4J && format != OutputFormat.DENSE) {
            throw new UsageException("--override needs --format shrink4j or dense (" + format.cliName() + " stores one setting for every linear)");
        }
        List<ModuleOverrides.Rule> rules = new java.util.ArrayList<>();
        for (String v : args.values("override")) rules.add(OverrideSpec.parse(v, "--override"));
        ModuleOverrides o = new ModuleOverrides(rules);
        try {
            o.check(qo);
        } catch (IllegalArgumentException | dev.shrink4j.tensors.ShrinkException e) {
            throw new UsageException("--" + e.getMessage());
        }
        return o;
    }

    /** {@code --target-bpw B}, checked before any work; NaN when absent. */
    static double targetBpw(Args args, QuantizeOptions qo, ReQuantOptions rq, OutputFormat format) {
        if (!args.has("target-bpw")) return Double.NaN;
        double b = args.number("target-bpw", Double.NaN, 1, 32);
        if (rq != null || !qo.method().uniform()) {
            throw new UsageException("--target-bpw applies to the uniform methods (rtn, gptq, guided-gptq): the size per bit-width of "
                    + (rq != null ? "requant" : qo.method().cliName()) + " is not modelled");
        }
        if (args.has("override")) throw new UsageException("--target-bpw chooses every module's bits; it does not combine with --override yet");
        if (format != OutputFormat.SHRINK4J && format != OutputFormat.DENSE) {
            throw new UsageException("--target-bpw needs --format shrink4j or dense (" + format.cliName() + " stores one bit-width for every linear)");
        }
        if (qo.method() == dev.shrink4j.quantize.QuantMethod.RTN && !args.has("calib")) {
            throw new UsageException("--target-bpw measures each module's sensitivity on calibration data: give rtn a --calib (self, FILE or random)");
        }
        return b;
    }

    /** Measures sensitivity and chooses bits per module; says what it chose in one line and in the report. */
    static ModuleOverrides mixedPrecision(CompressionRun run, LlamaModel model, Calibration calib, QuantizeOptions qo, double target) throws java.io.IOException {
        MixedPrecision.Result r;
        try {
            r = run.stage("sensitivity", () -> MixedPrecision.choose(model, calib, qo, target, run.quantizerListener()));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target_bits_per_weight", target);
        m.put("budget_bytes", r.budgetBytes());
        m.put("chosen_bytes", r.chosenBytes());
        m.put("chosen_bits_per_weight", r.bitsPerWeight());
        m.put("modules_per_bits", MixedPrecision.histogram(r).entrySet().stream().collect(java.util.stream.Collectors.toMap(
                e -> String.valueOf(e.getKey()), Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new)));
        m.put("sensitivity", "½ Σ F_ij (W − RTN_b(W))²_ij at bits " + MixedPrecision.CANDIDATES + "; F: empirical Fisher over the calibration tokens");
        List<Map<String, Object>> rows = new java.util.ArrayList<>();
        for (MixedPrecision.ModuleChoice c : r.modules()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("module", c.module());
            row.put("bits", c.bits());
            for (int i = 0; i < MixedPrecision.CANDIDATES.size(); i++) row.put("error_" + MixedPrecision.CANDIDATES.get(i) + "bit", c.error()[i]);
            rows.add(row);
        }
        m.put("modules", rows);
        run.report().put("mixed_precision", m);
        run.progress().note(String.format(Locale.ROOT, "mixed precision: %s modules per bit-width; %.3f bits/weight for a target of %s",
                MixedPrecision.histogram(r), r.bitsPerWeight(), RecipeReader.scalarText(target)));
        return r.overrides();
    }

    /** A rule that matches no module is likely a typo: one warning each, naming it, before any work (also under --quiet: not progress). */
    static void warnUnmatched(ModuleOverrides overrides, LlamaModel model, java.io.PrintStream err) {
        if (overrides.isEmpty()) return;
        List<String> modules = new java.util.ArrayList<>();
        for (int l = 0; l < model.numLayers(); l++) {
            // Proj order, not the map's: its iteration order may differ from run to run.
            for (dev.shrink4j.model.Proj p : dev.shrink4j.model.Proj.values()) if (model.layer(l).linears().containsKey(p)) modules.add(p.module(l));
        }
        for (ModuleOverrides.Rule r : overrides.unmatched(modules)) {
            err.println("warning: --override " + OverrideSpec.flag(r) + ": '" + r.match().pattern() + "' matches no module (names look like "
                    + (modules.isEmpty() ? "none" : modules.getFirst()) + ")");
        }
    }
}
