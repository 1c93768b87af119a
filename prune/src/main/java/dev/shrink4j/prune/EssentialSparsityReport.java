package dev.shrink4j.prune;

import dev.shrink4j.prune.EssentialSparsity.Detection;
import dev.shrink4j.prune.EssentialSparsity.Point;
import dev.shrink4j.prune.EssentialSparsity.Result;
import dev.shrink4j.prune.EssentialSparsity.Variant;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an essential-sparsity report shows (docs/methods/essential-sparsity.md §5): the curves (PNG), a table per level (metric per
 * variant, Δ vs dense, achieved sparsity), the detected points from both rules, and the per-matrix
 * sparsity that the global threshold induces at ES_τ (layer × matrix type).
 */
public final class EssentialSparsityReport {
    private EssentialSparsityReport() {}

    /** The report as JSON-able maps and lists ({@code Json.write} input). */
    public static Map<String, Object> json(Result r, Map<String, Object> setup) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("setup", setup);
        m.put("dense", Map.of("nll", r.denseNll(), "ppl", r.densePpl()));
        m.put("tolerance", Map.of("tau", r.tau(), "mode", "relative perplexity: ppl(p)/ppl(0) - 1 <= tau"));
        List<Object> pts = new ArrayList<>();
        for (Point p : r.points()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("variant", p.variant().id());
            e.put("target", p.target());
            e.put("achieved", p.achieved());
            e.put("nll", p.nll());
            e.put("ppl", p.ppl());
            e.put("delta_nll", p.nll() - r.denseNll());
            pts.add(e);
        }
        m.put("points", pts);
        List<Object> det = new ArrayList<>();
        for (Detection d : r.detections()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("variant", d.variant().id());
            e.put("essential_sparsity_tolerance", d.tolerance());
            e.put("essential_sparsity_refined", d.refined());
            e.put("knee_accepted", d.knee().accepted());
            e.put("knee_sparsity", d.knee().accepted() ? d.kneeSparsity() : null);
            e.put("knee_slope_before", finite(d.knee().slopeBefore()));
            e.put("knee_slope_after", finite(d.knee().slopeAfter()));
            e.put("rules_disagree", d.flagged());
            det.add(e);
        }
        m.put("detections", det);
        Point atEs = globalAtEs(r);
        if (atEs != null) {
            m.put("global_per_matrix_at_es", Map.of("target", atEs.target(), "sparsity", atEs.perMatrix()));
        }
        if (!Double.isNaN(r.jaccard())) {
            m.put("mask_overlap", Map.of("level", r.jaccardLevel(), "jaccard_global_vs_layerwise", r.jaccard()));
        }
        m.put("notes", r.notes());
        return m;
    }

    private static Object finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static Point globalAtEs(Result r) {
        for (Detection d : r.detections()) {
            if (d.variant() == Variant.GLOBAL) {
                for (Point p : r.points()) {
                    if (p.variant() == Variant.GLOBAL && Math.abs(p.target() - d.refined()) < 1e-9) {
                        return p;
                    }
                }
            }
        }
        return null;
    }

    /** The Markdown report; {@code plotFile} is the PNG's name beside it (or null). */
    public static String markdown(Result r, Map<String, Object> setup, String plotFile) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Essential sparsity\n\n");
        setup.forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v).append('\n'));
        sb.append(String.format(Locale.ROOT, "- dense: NLL %.4f, perplexity %.3f%n", r.denseNll(), r.densePpl()));
        sb.append(String.format(Locale.ROOT, "- tolerance rule: ppl(p)/ppl(0) − 1 ≤ %.3g (relative)%n", r.tau()));
        r.notes().forEach(n -> sb.append("- note: ").append(n).append('\n'));
        sb.append("\n## Detected points\n\n| variant | ES (tolerance) | refined | knee | slope before → after | rules agree |\n|---|---|---|---|---|---|\n");
        for (Detection d : r.detections()) {
            sb.append(String.format(Locale.ROOT, "| %s | %.0f%% | %.0f%% | %s | %.2f → %.2f | %s |%n", d.variant().id(),
                    d.tolerance() * 100, d.refined() * 100,
                    d.knee().accepted() ? String.format(Locale.ROOT, "%.0f%%", d.kneeSparsity() * 100) : "no sharp knee",
                    d.knee().slopeBefore(), d.knee().slopeAfter(), d.flagged() ? "no" : "yes"));
        }
        if (!Double.isNaN(r.jaccard())) {
            sb.append(String.format(Locale.ROOT, "%nGlobal vs layer-wise masks at %.0f%%: Jaccard overlap %.3f.%n", r.jaccardLevel() * 100, r.jaccard()));
        }
        if (plotFile != null) {
            sb.append("\n![perplexity vs sparsity](").append(plotFile).append(")\n");
        }
        sb.append("\n## Points\n\n| variant | target | achieved | NLL | ΔNLL | perplexity | ppl / dense |\n|---|---|---|---|---|---|---|\n");
        List<Point> sorted = new ArrayList<>(r.points());
        sorted.sort((a, b) -> a.variant() != b.variant() ? a.variant().compareTo(b.variant()) : Double.compare(a.target(), b.target()));
        for (Point p : sorted) {
            sb.append(String.format(Locale.ROOT, "| %s | %.1f%% | %.2f%% | %.4f | %+.4f | %.3f | %.4f |%n", p.variant().id(),
                    p.target() * 100, p.achieved() * 100, p.nll(), p.nll() - r.denseNll(), p.ppl(), p.ppl() / r.densePpl()));
        }
        Point atEs = globalAtEs(r);
        if (atEs != null && !atEs.perMatrix().isEmpty()) {
            sb.append(String.format(Locale.ROOT, "%n## Per-matrix sparsity of the global threshold at %.0f%%%n%n", atEs.target() * 100));
            Map<Integer, Map<String, Double>> grid = new TreeMap<>();
            List<String> types = new ArrayList<>();
            atEs.perMatrix().forEach((name, v) -> {
                String[] parts = name.split("\\.");
                int layer = Integer.parseInt(parts[2]);
                String type = parts[parts.length - 1];
                if (!types.contains(type)) {
                    types.add(type);
                }
                grid.computeIfAbsent(layer, k -> new LinkedHashMap<>()).put(type, v);
            });
            sb.append("| layer | ").append(String.join(" | ", types)).append(" |\n|---|");
            types.forEach(t -> sb.append("---|"));
            sb.append('\n');
            grid.forEach((layer, row) -> {
                sb.append("| ").append(layer).append(" |");
                for (String t : types) {
                    Double v = row.get(t);
                    sb.append(v == null ? " – |" : String.format(Locale.ROOT, " %.1f%% |", v * 100));
                }
                sb.append('\n');
            });
        }
        return sb.toString();
    }

    /** The plot of docs/methods/essential-sparsity.md §5 item 1. */
    public static void plot(Result r, Path png, String title) {
        List<SparsityPlot.Series> series = new ArrayList<>();
        for (Variant v : Variant.values()) {
            List<Point> c = r.curve(v);
            if (c.isEmpty() || (v.isCurve() && c.size() == 1)) {
                continue;
            }
            double[] xs = c.stream().mapToDouble(Point::achieved).toArray();
            double[] ys = c.stream().mapToDouble(Point::ppl).toArray();
            int marker = -1;
            for (Detection d : r.detections()) {
                if (d.variant() == v) {
                    for (int i = 0; i < c.size(); i++) {
                        if (Math.abs(c.get(i).target() - d.refined()) < 1e-9) {
                            marker = i;
                        }
                    }
                }
            }
            series.add(new SparsityPlot.Series(v.id(), xs, ys, marker));
        }
        SparsityPlot.write(png, title, series, r.densePpl(), r.tau());
    }
}
