package dev.shrink4j.cli;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.quantize.Pqi;
import dev.shrink4j.quantize.PqiSummary;
import dev.shrink4j.quantize.Quantizer;
import dev.shrink4j.tensors.ShrinkException;
import java.io.IOException;
import java.io.PrintStream;
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
 * {@code shrink4j pqi}: the post-quantization integral of a quantized checkpoint against its original
 * (docs/methods/pqi-requant.md §1–§2): Σ PQI for each N beside the measured ΔF and the first-order
 * Taylor term, mean |PQI| and Σ PQI per layer × module kind (table and PNG heat map with --report), and
 * the share of Σ PQI carried by the top 0.15 % / 0.71 % / 5.25 % of weights.
 */
final class PqiCommand implements Command {
    /** docs/methods/pqi-requant.md §2's CPU default n = 16 sequences. */
    static final int DEFAULT_SAMPLES = 16;

    @Override
    public String name() {
        return "pqi";
    }

    @Override
    public String summary() {
        return "post-quantization integral: which weights' quantization costs the loss, and how well Σ PQI predicts ΔF";
    }


    @Override
    public String footer() {
        return """

                PQI_i = (W~_i - W_i) * (1/N) sum_k dF/dw_i at W + t_k (W~ - W): every decoder linear on the path at once,
                one forward + backward per calibration sequence and point (left end points t_k = k/N; --rule midpoint
                uses (k + 1/2)/N). The points of every N in --points are evaluated once (1,2,4,8,16: 16 passes).
                Per-weight scores, the module table and the concentration shares use the largest N.
                Example: shrink4j pqi --model examples/stories260K --quantized /tmp/stories-rtn3 --points 1,2,4,8,16""";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("model").hasArg().argName("DIR").desc("the original checkpoint (W)").build());
        o.addOption(Option.builder().longOpt("quantized").hasArg().argName("DIR").desc("its quantized version (W~): same architecture, any shrink4j format").build());
        o.addOption(Option.builder().longOpt("points").hasArg().argName("N,..").desc("path points N, comma-separated (default 8)").build());
        o.addOption(Option.builder().longOpt("rule").hasArg().argName("R").desc("left|midpoint (default left, the paper's)").build());
        o.addOption(Option.builder().longOpt("scratch").hasArg().argName("DIR").desc("memory-map the two weight-shaped accumulators in a file there (big models)").build());
        CompressionRun.addCalibrationOptions(o, DEFAULT_SAMPLES, "");
        o.addOption(Option.builder().longOpt("report").hasArg().argName("DIR").desc("write report.json, report.md and pqi-heatmap.png there").build());
        o.addOption(Option.builder().longOpt("quiet").desc("no progress on stderr").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) throws Exception {
        Args args = new Args(cl);
        args.positionals();
        Path in = args.modelDir("model");
        Path q = args.modelDir("quantized");
        List<Integer> points = points(args.string("points", "8"));
        Pqi.Rule rule = Pqi.Rule.valueOf(args.choice("rule", "left", List.of("left", "midpoint")).toUpperCase(Locale.ROOT));
        try (CompressionRun run = new CompressionRun("pqi", args, console, in, null)) {
            Progress progress = run.progress();
            Report report = run.report();
            LlamaModel original = run.loadInput(true);
            LlamaModel quantized = LlamaModel.load(q, run.arena());
            Pqi.checkCompatible(original, quantized);
            report.put("quantized", q.toString());
            Tokenizer tok = run.tokenizer(original, true);
            Calibration calib = run.calibration(original, tok, DEFAULT_SAMPLES);
            int maxN = points.stream().mapToInt(Integer::intValue).max().orElseThrow();
            List<Pqi.Scheme> schemes = new ArrayList<>();
            for (int n : points) schemes.add(new Pqi.Scheme(n, rule));
            Pqi.Options po = new Pqi.Options(new Pqi.Scheme(maxN, rule), schemes, args.has("scratch") ? Path.of(args.string("scratch", null)) : null);
            Quantizer.Listener listener = run.quantizerListener();
            try (Pqi pqi = new Pqi(original, quantized, po, calib.sequences(), listener)) {
                Pqi.Result r = run.stage("pqi", pqi::run);
                PqiSummary s = run.stage("summary", () -> PqiSummary.of(pqi, PqiSummary.PAPER_FRACTIONS));
                print(console.out(), r, s, schemes, maxN, rule, original.numLayers());
                report.put("parameters", Map.of("points", points, "rule", rule.cliName(), "scores_points", maxN));
                report.put("loss_original", r.lossOriginal());
                report.put("loss_quantized", r.lossQuantized());
                report.put("delta_f", r.deltaF());
                if (!Double.isNaN(r.taylor())) report.put("taylor_first_order", r.taylor());
                List<Map<String, Object>> acc = new ArrayList<>();
                for (Pqi.Scheme sc : schemes) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("N", sc.points());
                    m.put("rule", sc.rule().cliName());
                    m.put("sum_pqi", r.sum(sc));
                    m.put("relative_error", r.relativeError(sc));
                    acc.add(m);
                }
                report.put("accuracy", acc);
                Map<String, Object> shares = new LinkedHashMap<>();
                s.shares().forEach((f, v) -> shares.put(String.format(Locale.ROOT, "top %.2f%%", 100 * f), v));
                report.put("concentration", shares);
                long peak = run.peakAnonBytes();
                report.put("peak_rss_anon_bytes", peak);
                report.put("stages_seconds_total", report.stages().values().stream().mapToDouble(Double::doubleValue).sum());
                if (peak > 0) console.out().printf(Locale.ROOT, "peak RssAnon %.1f MiB; pqi %.1f s%n", peak / 1048576.0, report.stages().getOrDefault("pqi", 0.0));
                for (PqiSummary.Module m : s.modules()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("module", m.proj().module(m.layer()));
                    row.put("mean_abs_pqi", m.meanAbs());
                    row.put("sum_pqi", m.sum());
                    report.layer(row);
                }
                if (args.has("report")) {
                    Path dir = Path.of(args.string("report", null));
                    try {
                        report.write(dir);
                        PqiHeatMap.write(dir.resolve("pqi-heatmap.png"), s, original.numLayers(),
                                "PQI (N = " + maxN + ", " + rule.cliName() + "): " + q.getFileName() + " vs " + in.getFileName());
                    } catch (IOException e) {
                        throw new ShrinkException("--report " + dir + ": cannot write (" + e.getMessage() + ")", e);
                    }
                    console.out().println("report: " + dir.resolve("report.md") + ", heat map " + dir.resolve("pqi-heatmap.png"));
                }
            }
        }
        return 0;
    }

    static List<Integer> points(String spec) {
        List<Integer> r = new ArrayList<>();
        for (String p : spec.split(",")) {
            try {
                int n = Integer.parseInt(p.trim());
                if (n < 1 || n > 1024) throw new NumberFormatException();
                if (!r.contains(n)) r.add(n);
            } catch (NumberFormatException e) {
                throw new UsageException("--points " + spec + ": expected comma-separated integers in [1, 1024], e.g. --points 1,2,4,8,16");
            }
        }
        return r;
    }

    private static void print(PrintStream out, Pqi.Result r, PqiSummary s, List<Pqi.Scheme> schemes, int maxN, Pqi.Rule rule, int layers) {
        out.printf(Locale.ROOT, "F(W) = %.6f, F(W~) = %.6f: measured ΔF = %.6e%n", r.lossOriginal(), r.lossQuantized(), r.deltaF());
        if (!Double.isNaN(r.taylor())) {
            out.printf(Locale.ROOT, "first-order Taylor gᵀΔ at t = 0: %.6e (relative error %.1f%%)%n", r.taylor(),
                    100 * Math.abs(r.taylor() - r.deltaF()) / Math.abs(r.deltaF()));
        }
        out.println("| N | rule | Σ PQI | ΔF measured | relative error |");
        out.println("|---|---|---|---|---|");
        for (Pqi.Scheme sc : schemes) {
            out.printf(Locale.ROOT, "| %d | %s | %.6e | %.6e | %.2f%% |%n", sc.points(), sc.rule().cliName(), r.sum(sc), r.deltaF(), 100 * r.relativeError(sc));
        }
        out.printf(Locale.ROOT, "%nmean |PQI| per weight (Σ PQI), N = %d %s:%n", maxN, rule.cliName());
        StringBuilder h = new StringBuilder("| layer |");
        for (Proj p : Proj.values()) h.append(' ').append(p.name().toLowerCase(Locale.ROOT)).append(" |");
        out.println(h);
        out.println("|---|" + "---|".repeat(Proj.values().length));
        String[][] cells = new String[layers][Proj.values().length];
        for (PqiSummary.Module m : s.modules()) {
            cells[m.layer()][m.proj().ordinal()] = String.format(Locale.ROOT, "%.2e (%+.1e)", m.meanAbs(), m.sum());
        }
        for (int l = 0; l < layers; l++) {
            StringBuilder row = new StringBuilder("| " + l + " |");
            for (String c : cells[l]) row.append(' ').append(c == null ? "–" : c).append(" |");
            out.println(row);
        }
        StringBuilder c = new StringBuilder("\nshare of Σ PQI carried by the top weights (by PQI):");
        s.shares().forEach((f, v) -> c.append(String.format(Locale.ROOT, " top %.2f%% → %.2f%%;", 100 * f, 100 * v)));
        out.println(c);
    }
}
