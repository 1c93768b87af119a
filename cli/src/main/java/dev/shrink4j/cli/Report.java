package dev.shrink4j.cli;

import dev.shrink4j.tensors.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The report directory every compression command writes ({@code --report DIR}): {@code report.json}
 * (machine-readable) and {@code report.md} (the same for people). Sections: command, model, method and
 * parameters, calibration, per-layer rows, bits per weight, time per stage, peak memory, evaluation.
 * Values are JSON-ready (String, Number, Boolean, List, Map).
 */
public final class Report {
    private final Map<String, Object> root = new LinkedHashMap<>();
    private final Map<String, Object> stages = new LinkedHashMap<>();
    private final List<Map<String, Object>> layers = new ArrayList<>();
    private final List<Map<String, Object>> evals = new ArrayList<>();

    public Report(String command, List<String> argv) {
        root.put("command", command);
        root.put("argv", List.copyOf(argv));
    }

    /** The command line as typed (options in parse order, then the arguments), for {@code argv}. */
    public static List<String> argv(String command, org.apache.commons.cli.CommandLine cl) {
        List<String> a = new ArrayList<>();
        a.add(command);
        for (org.apache.commons.cli.Option op : cl.getOptions()) {
            a.add("--" + op.getLongOpt());
            if (op.hasArg()) a.add(op.getValue());
        }
        a.addAll(cl.getArgList());
        return a;
    }

    /** The "model" section: path and the architecture figures a reader needs. */
    public static Map<String, Object> modelInfo(java.nio.file.Path in, dev.shrink4j.model.LlamaModel m) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("path", in.toString());
        r.put("model_type", m.config().modelType());
        r.put("layers", m.numLayers());
        r.put("hidden_size", m.config().hiddenSize());
        r.put("vocab_size", m.config().vocabSize());
        return r;
    }

    /** Sets a top-level section or value (e.g. "model", "method", "parameters", "calibration", "bits"). */
    public Report put(String key, Object value) {
        root.put(key, value);
        return this;
    }

    public Object get(String key) {
        return root.get(key);
    }

    /** A timed stage: {@code try (var t = report.stage("gptq")) { … }}. Repeated names add up. */
    public Timer stage(String name) {
        return new Timer(name, System.nanoTime());
    }

    public final class Timer implements AutoCloseable {
        private final String name;
        private final long start;

        private Timer(String name, long start) {
            this.name = name;
            this.start = start;
        }

        @Override
        public void close() {
            double s = (System.nanoTime() - start) / 1e9;
            stages.merge(name, s, (a, b) -> (Double) a + (Double) b);
        }
    }

    /** One per-layer row, e.g. name, shape, objective before/after, bits per weight. */
    public void layer(Map<String, Object> row) {
        layers.add(row);
    }

    public List<Map<String, Object>> layers() {
        return layers;
    }

    /** One evaluation row: text, windows, tokens, NLL/ppl before and after, KL. */
    public void eval(Map<String, Object> row) {
        evals.add(row);
    }

    /** Seconds per stage, in the order the stages first ran. */
    public Map<String, Double> stages() {
        Map<String, Double> r = new LinkedHashMap<>();
        stages.forEach((k, v) -> r.put(k, (Double) v));
        return r;
    }

    public List<Map<String, Object>> evals() {
        return evals;
    }

    public void memory(PeakMemory mem) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("peak_rss_anon_bytes", mem.peakAnonBytes());
        m.put("peak_rss_file_bytes", mem.peakFileBytes());
        root.put("memory", m);
    }

    public Map<String, Object> toJson() {
        Map<String, Object> r = new LinkedHashMap<>(root);
        r.put("stages_seconds", stages);
        r.put("layers", layers);
        r.put("eval", evals);
        return r;
    }

    /** Writes report.json and report.md into dir (created if needed). */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("report.json"), Json.write(toJson(), 2) + "\n");
        Files.writeString(dir.resolve("report.md"), markdown());
    }

    String markdown() {
        StringBuilder md = new StringBuilder("# shrink4j ").append(root.get("command")).append(" report\n\n");
        md.append("`shrink4j ").append(String.join(" ", castList(root.get("argv")))).append("`\n\n");
        for (Map.Entry<String, Object> e : root.entrySet()) {
            if (e.getKey().equals("command") || e.getKey().equals("argv")) continue;
            md.append("- **").append(e.getKey()).append("**: ").append(inline(e.getValue())).append('\n');
        }
        if (!evals.isEmpty()) {
            md.append("\n## Evaluation\n\n");
            table(md, evals);
        }
        md.append("\n## Time per stage\n\n| stage | seconds |\n|---|---|\n");
        stages.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(String.format("%.2f", (Double) v)).append(" |\n"));
        if (!layers.isEmpty()) {
            md.append("\n## Layers\n\n");
            table(md, layers);
        }
        return md.toString();
    }

    private static void table(StringBuilder md, List<Map<String, Object>> rows) {
        List<String> cols = new ArrayList<>();
        for (Map<String, Object> r : rows) for (String k : r.keySet()) if (!cols.contains(k)) cols.add(k);
        md.append("| ").append(String.join(" | ", cols)).append(" |\n|");
        md.append("---|".repeat(cols.size())).append('\n');
        for (Map<String, Object> r : rows) {
            md.append("|");
            for (String c : cols) md.append(' ').append(inline(r.get(c))).append(" |");
            md.append('\n');
        }
    }

    private static String inline(Object v) {
        if (v == null) return "";
        if (v instanceof Double d) return Math.abs(d) >= 1e4 || (d != 0 && Math.abs(d) < 1e-3) ? String.format("%.4g", d) : String.format("%.4f", d);
        if (v instanceof Map<?, ?> || v instanceof List<?>) return "`" + Json.write(v, 0) + "`";
        return v.toString();
    }

    @SuppressWarnings("unchecked")
    private static List<String> castList(Object o) {
        return o instanceof List<?> l ? (List<String>) l : List.of();
    }
}
