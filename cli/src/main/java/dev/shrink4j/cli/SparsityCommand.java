package dev.shrink4j.cli;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.prune.CalibrationNll;
import dev.shrink4j.prune.EssentialPoint;
import dev.shrink4j.prune.EssentialSparsity;
import dev.shrink4j.prune.EssentialSparsityReport;
import dev.shrink4j.prune.SparsityTarget;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.Json;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code shrink4j sparsity}: the essential-sparsity analysis (docs/methods/essential-sparsity.md) — sweep one-shot magnitude
 * pruning of the block linears, evaluate each level, detect the sharp dropping point.
 */
final class SparsityCommand implements Command {
    @Override
    public String name() {
        return "sparsity";
    }

    @Override
    public String summary() {
        return "essential-sparsity analysis: perplexity vs one-shot magnitude sparsity, detected point, plot";
    }


    @Override
    public String footer() {
        return """

                Prunes copies of q/k/v/o/gate/up/down (embeddings, norms and head excluded) at every level with
                global and layer-wise magnitude, plus the 2:4 and 4:8 points; the input is never modified and
                one block is pruned at a time while it runs. ES is the largest level whose perplexity stays
                within --tolerance of the dense model's (relative), cross-checked by a two-segment knee fit.
                Example: shrink4j sparsity --model examples/stories260K --text examples/text/tinystories-valid.txt --out /tmp/sparsity-report
                """;
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("model").hasArg().argName("DIR").desc("checkpoint directory (required)").build());
        o.addOption(Option.builder().longOpt("tokenizer").hasArg().argName("DIR").desc("directory of tokenizer.json when the model has none (e.g. synthetic checkpoints)").build());
        o.addOption(Option.builder().longOpt("text").hasArg().argName("FILE").desc("evaluation text (required)").build());
        o.addOption(Option.builder().longOpt("levels").hasArg().argName("L").desc("sparsity levels: a:b:step in % (default 0:90:5) or a list 0,10,20").build());
        o.addOption(Option.builder().longOpt("variants").hasArg().argName("V").desc("comma list of global, layer-wise, 2:4, 4:8 (default all)").build());
        o.addOption(Option.builder().longOpt("tolerance").hasArg().argName("T").desc("relative perplexity tolerance τ (default 0.01)").build());
        o.addOption(Option.builder().longOpt("refine").hasArg().argName("STEP").desc("refinement step after detection (default 0.01; 0 = none)").build());
        o.addOption(Option.builder().longOpt("seq-len").hasArg().argName("T").desc("evaluation window length incl. BOS (default 256, as eval)").build());
        o.addOption(Option.builder().longOpt("max-windows").hasArg().argName("N").desc("evaluate the first N windows only").build());
        o.addOption(Option.builder().longOpt("out").hasArg().argName("DIR").desc("report directory (report.json, report.md, sparsity.png); default sparsity-report").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) throws Exception {
        Args args = new Args(cl);
        args.positionals();
        Path dir = args.modelDir("model");
        Path text = Path.of(args.required("text", "FILE"));
        String content = args.text("text");
        double[] levels = parseLevels(args.string("levels", "0:90:5"));
        List<EssentialSparsity.Variant> variants = parseVariants(args.string("variants", "global,layer-wise,2:4,4:8"));
        double tau = args.number("tolerance", EssentialPoint.TOLERANCE, 0, Double.POSITIVE_INFINITY);
        double refine = args.fraction("refine", 0.01, 0, 1, true);
        Path out = Path.of(args.string("out", "sparsity-report"));
        Path tokenizerDir = args.has("tokenizer") ? args.modelDir("tokenizer") : dir;
        long t0 = System.nanoTime();
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(dir, arena);
            int seqLen = args.integer("seq-len", Math.min(256, model.config().maxPositions()), 2, model.config().maxPositions());
            Tokenizer tok = Tokenizer.load(tokenizerDir, model.config());
            int[] windows = CalibrationNll.windows(tok.encode(content, false), seqLen,
                    model.config().bosTokenId(), args.integer("max-windows", Integer.MAX_VALUE, 1));
            int n = windows.length / seqLen;
            if (n == 0) {
                throw new ShrinkException("--text " + text + ": shorter than one window of " + (seqLen - 1) + " tokens");
            }
            console.err().printf(Locale.ROOT, "evaluating %d windows of %d tokens per point%n", n, seqLen);
            EssentialSparsity.Result r = EssentialSparsity.sweep(model, windows, n, seqLen, levels, variants, tau, refine,
                    (p, done, total) -> console.err().printf(Locale.ROOT, "[%d/%d] %s %.1f%%: perplexity %.3f%n",
                            done, total, p.variant().id(), p.target() * 100, p.ppl()));
            Map<String, Object> setup = new LinkedHashMap<>();
            setup.put("model", dir.toString());
            setup.put("text", text.toString());
            if (args.has("tokenizer")) setup.put("tokenizer", tokenizerDir.toString());
            setup.put("windows", (long) n);
            setup.put("seq_len", (long) seqLen);
            setup.put("bos", "prepended (docs/methods/evaluation.md)");
            setup.put("scope", "q, k, v, o, gate, up, down of every block (" + r.matrices().size() + " matrices)");
            setup.put("seconds", Math.round((System.nanoTime() - t0) / 1e6) / 1e3);
            try {
                java.nio.file.Files.createDirectories(out);
                EssentialSparsityReport.plot(r, out.resolve("sparsity.png"), "Essential sparsity: " + dir.getFileName());
                java.nio.file.Files.writeString(out.resolve("report.json"), Json.write(EssentialSparsityReport.json(r, setup), 2) + "\n");
                java.nio.file.Files.writeString(out.resolve("report.md"), EssentialSparsityReport.markdown(r, setup, "sparsity.png"));
            } catch (java.io.IOException e) {
                throw new ShrinkException("--out " + out + ": cannot write the report (" + e.getMessage() + ")", e);
            }
            console.out().print(r.summary());
            console.out().printf(Locale.ROOT, "report: %s%n", out);
        }
        return 0;
    }

    /** "a:b:step" in percent (inclusive) or a comma list in percent or fractions; always starts at 0. */
    static double[] parseLevels(String spec) {
        List<Double> out = new ArrayList<>();
        try {
            if (spec.contains(":")) {
                String[] p = spec.split(":");
                if (p.length != 3) {
                    throw new UsageException("--levels: expected a:b:step, got '" + spec + "'");
                }
                double a = Double.parseDouble(p[0]);
                double b = Double.parseDouble(p[1]);
                double st = Double.parseDouble(p[2]);
                if (!(st > 0) || b < a) {
                    throw new UsageException("--levels: need step > 0 and a ≤ b, got '" + spec + "'");
                }
                for (int i = 0; a + i * st <= b + 1e-9; i++) {
                    out.add((a + i * st) / 100.0);
                }
            } else {
                boolean percent = false;
                List<Double> raw = new ArrayList<>();
                for (String s : spec.split(",")) {
                    double v = Double.parseDouble(s.trim());
                    raw.add(v);
                    percent |= v >= 1;
                }
                for (double v : raw) {
                    out.add(percent ? v / 100 : v);
                }
            }
        } catch (NumberFormatException e) {
            throw new UsageException("--levels: not a number in '" + spec + "'");
        }
        if (out.isEmpty() || out.get(0) != 0.0) {
            out.add(0, 0.0);
        }
        double[] levels = out.stream().mapToDouble(d -> Math.round(d * 1e6) / 1e6).sorted().distinct().toArray();
        for (double l : levels) {
            SparsityTarget.check(l, "--levels");
        }
        return levels;
    }

    static List<EssentialSparsity.Variant> parseVariants(String spec) {
        List<EssentialSparsity.Variant> out = new ArrayList<>();
        for (String s : spec.split(",")) {
            String t = s.trim().toLowerCase(Locale.ROOT);
            EssentialSparsity.Variant v = null;
            for (EssentialSparsity.Variant c : EssentialSparsity.Variant.values()) {
                if (c.id().equals(t)) {
                    v = c;
                }
            }
            if (v == null) {
                throw new UsageException("--variants: unknown '" + s + "' (global, layer-wise, 2:4, 4:8)");
            }
            if (!out.contains(v)) {
                out.add(v);
            }
        }
        return out;
    }
}
