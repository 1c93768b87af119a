package dev.shrink4j.cli;

import dev.shrink4j.model.CheckpointConfig;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.io.TensorInfo;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code shrink4j inspect PATH}: architecture summary, tensor table and totals of a checkpoint. */
final class InspectCommand implements Command {
    /** config.json keys shown in the summary, in this order, when present. */
    private static final List<String> SUMMARY_KEYS = List.of(
            "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
            "head_dim", "vocab_size", "max_position_embeddings", "tie_word_embeddings", "rope_theta", "rms_norm_eps",
            "torch_dtype");

    @Override
    public String name() {
        return "inspect";
    }

    @Override
    public String summary() {
        return "show a checkpoint's architecture, tensors and sizes";
    }

    @Override
    public String arguments() {
        return "PATH";
    }

    @Override
    public String footer() {
        return "\nPATH is a checkpoint directory (model.safetensors or a sharded index) or one .safetensors file.";
    }

    @Override
    public boolean computes() {
        return false;
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("json").desc("print JSON instead of a table").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) throws IOException {
        Path path = Path.of(new Args(cl).positionals("PATH").get(0));
        if (dev.shrink4j.tensors.gguf.GgufFile.looksLikeGguf(path)) {
            try (Arena arena = Arena.ofConfined()) {
                inspectGguf(console, dev.shrink4j.tensors.gguf.GgufFile.open(path, arena), cl.hasOption("json"));
            }
            return 0;
        }
        try (Arena arena = Arena.ofConfined()) {
            Checkpoint ckpt = Checkpoint.open(path, arena);
            Map<String, Object> config = readConfig(ckpt.directory());
            if (cl.hasOption("json")) {
                console.out().println(Json.write(toJson(path, ckpt, config), 2));
            } else {
                printTable(console, path, ckpt, config);
            }
        }
        return 0;
    }

    /** A GGUF file: its scalar metadata (arrays by length) and one row per tensor. */
    private static void inspectGguf(Console console, dev.shrink4j.tensors.gguf.GgufFile g, boolean json) {
        Map<String, Object> meta = new java.util.LinkedHashMap<>();
        g.metadata().forEach((k, v) -> meta.put(k, v.value() instanceof dev.shrink4j.tensors.gguf.GgufValue.Array a
                ? "[" + a.values().size() + " × " + a.elementType() + "]"
                : v.value() instanceof String str && str.length() > 80 ? "(" + str.length() + " characters)" : v.value()));
        List<Map<String, Object>> rows = new java.util.ArrayList<>();
        for (var e : g.tensors().values()) {
            Map<String, Object> r = new java.util.LinkedHashMap<>();
            r.put("name", e.name());
            r.put("type", e.type().name());
            r.put("shape", java.util.Arrays.stream(e.shape().dims()).boxed().toList());
            r.put("bytes", e.bytes());
            rows.add(r);
        }
        if (json) {
            Map<String, Object> out = new java.util.LinkedHashMap<>();
            out.put("path", g.path().toString());
            out.put("format", "gguf");
            out.put("metadata", meta);
            out.put("tensors", rows);
            console.out().println(Json.write(out, 2));
            return;
        }
        console.out().printf("%s: GGUF v3, %d metadata keys, %d tensors, %,d bytes of tensor data%n", g.path(), meta.size(), rows.size(), g.dataBytes());
        meta.forEach((k, v) -> console.out().printf("  %-45s %s%n", k, v));
        console.out().printf("%-40s %-6s %-16s %12s%n", "tensor", "type", "shape", "bytes");
        for (Map<String, Object> r : rows) console.out().printf("%-40s %-6s %-16s %,12d%n", r.get("name"), r.get("type"), r.get("shape"), (Long) r.get("bytes"));
    }

    /** The config beside the weights, or null when there is none. */
    static Map<String, Object> readConfig(Path dir) {
        return Files.exists(dir.resolve("config.json")) ? CheckpointConfig.read(dir) : null;
    }

    private static Map<String, Object> toJson(Path path, Checkpoint ckpt, Map<String, Object> config) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("path", path.toString());
        if (config != null) {
            root.put("architecture", architecture(config));
            Map<String, Object> summary = new LinkedHashMap<>();
            for (String k : SUMMARY_KEYS) if (config.containsKey(k)) summary.put(k, config.get(k));
            root.put("config", summary);
            if (config.get("shrink4j") != null) root.put("shrink4j", config.get("shrink4j"));
        }
        List<Object> tensors = new ArrayList<>();
        long params = 0;
        long bytes = 0;
        for (String n : ckpt.names()) {
            TensorInfo i = ckpt.info(n);
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("name", n);
            t.put("dtype", i.dtype().safetensorsName());
            t.put("shape", i.shape().dims());
            t.put("bytes", i.byteSize());
            tensors.add(t);
            params += i.shape().numel();
            bytes += i.byteSize();
        }
        root.put("tensors", tensors);
        Map<String, Object> totals = new LinkedHashMap<>();
        totals.put("tensors", ckpt.names().size());
        totals.put("elements", params);
        totals.put("bytes", bytes);
        totals.put("shards", ckpt.shards().size());
        root.put("totals", totals);
        if (!ckpt.metadata().isEmpty()) root.put("metadata", ckpt.metadata());
        return root;
    }

    private static String architecture(Map<String, Object> config) {
        if (config.get("architectures") instanceof List<?> l && !l.isEmpty()) return String.valueOf(l.get(0));
        return String.valueOf(config.getOrDefault("model_type", "unknown"));
    }

    private static void printTable(Console console, Path path, Checkpoint ckpt, Map<String, Object> config) {
        var out = console.out();
        out.println(path + " — " + ckpt.shards().size() + " shard" + (ckpt.shards().size() == 1 ? "" : "s"));
        Map<String, Map<String, Object>> compressed = new LinkedHashMap<>();
        if (config != null) {
            out.println("architecture: " + architecture(config)
                    + (CheckpointConfig.isMarked(config) ? " (" + CheckpointConfig.baseModelType(config) + ", marked model_type/quant_method "
                            + CheckpointConfig.QUANT_METHOD + ": other loaders refuse it)" : ""));
            for (String k : SUMMARY_KEYS) {
                if (config.containsKey(k)) out.printf("  %-24s %s%n", k, config.get(k));
            }
            if (config.get("shrink4j") instanceof Map<?, ?> s) printShrink4j(out, s, compressed);
        } else {
            out.println("(no config.json beside the weights)");
        }
        // Tensors of compressed linears are summed per module in the table below; the rest are listed.
        Map<String, String> moduleOf = new LinkedHashMap<>();
        for (String n : ckpt.names()) {
            int dot = n.lastIndexOf('.');
            if (dot > 0 && compressed.containsKey(n.substring(0, dot)) && !n.endsWith(".bias")) moduleOf.put(n, n.substring(0, dot));
        }
        if (!compressed.isEmpty()) printCompressed(out, ckpt, compressed, moduleOf);
        out.println();
        List<String> listed = ckpt.names().stream().filter(n -> !moduleOf.containsKey(n)).toList();
        int nameWidth = Math.max(4, listed.stream().mapToInt(String::length).max().orElse(4));
        out.printf("%-" + nameWidth + "s  %-5s  %-20s  %12s%n", compressed.isEmpty() ? "name" : "other tensors", "dtype", "shape", "bytes");
        Map<DType, long[]> byType = new EnumMap<>(DType.class);
        long elements = 0;
        long bytes = 0;
        for (String n : ckpt.names()) {
            TensorInfo i = ckpt.info(n);
            if (!moduleOf.containsKey(n)) {
                out.printf("%-" + nameWidth + "s  %-5s  %-20s  %12d%n", n, i.dtype().safetensorsName(), i.shape(), i.byteSize());
            }
            long[] acc = byType.computeIfAbsent(i.dtype(), d -> new long[3]);
            acc[0]++;
            acc[1] += i.shape().numel();
            acc[2] += i.byteSize();
            elements += i.shape().numel();
            bytes += i.byteSize();
        }
        out.println();
        byType.forEach((d, acc) -> out.printf("%-5s %6d tensors %,16d elements %,16d bytes%n", d.safetensorsName(), acc[0], acc[1], acc[2]));
        out.printf("total %6d tensors %,16d elements %,16d bytes (%s)%n", ckpt.names().size(), elements, bytes, human(bytes));
    }

    /** The shrink4j block without its per-module descriptors (those go to the table): structure and provenance, one line each. */
    private static void printShrink4j(java.io.PrintStream out, Map<?, ?> s, Map<String, Map<String, Object>> compressed) {
        if (s.get("tensors") instanceof Map<?, ?> t) {
            for (Map.Entry<?, ?> e : t.entrySet()) {
                if (e.getValue() instanceof Map<?, ?> d) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> descriptor = (Map<String, Object>) d;
                    compressed.put(String.valueOf(e.getKey()), descriptor);
                }
            }
        }
        out.println("shrink4j (format_version " + s.get("format_version") + ")");
        for (Map.Entry<?, ?> e : s.entrySet()) {
            String k = String.valueOf(e.getKey());
            if (k.equals("tensors") || k.equals("format_version")) continue;
            if (k.equals("provenance") && e.getValue() instanceof Map<?, ?> p) {
                for (Map.Entry<?, ?> pe : p.entrySet()) out.printf("  %-24s %s%n", pe.getKey(), flat(pe.getValue()));
            } else {
                out.printf("  %-24s %s%n", k, flat(e.getValue()));
            }
        }
    }

    /** One table row per compressed linear: module, format, bits, group, shape, stored bytes and bits per weight. */
    private static void printCompressed(java.io.PrintStream out, Checkpoint ckpt, Map<String, Map<String, Object>> compressed,
                                        Map<String, String> moduleOf) {
        Map<String, Long> bytesOf = new LinkedHashMap<>();
        moduleOf.forEach((n, m) -> bytesOf.merge(m, ckpt.info(n).byteSize(), Long::sum));
        int w = Math.max(6, compressed.keySet().stream().mapToInt(String::length).max().orElse(6));
        out.println();
        out.printf("%-" + w + "s  %-16s  %4s  %5s  %-12s  %10s  %7s%n", "module", "format", "bits", "group", "shape", "bytes", "bits/w");
        long params = 0, bytes = 0;
        for (Map.Entry<String, Map<String, Object>> e : compressed.entrySet()) {
            Map<String, Object> d = e.getValue();
            long b = bytesOf.getOrDefault(e.getKey(), 0L);
            long n = d.get("shape") instanceof List<?> sh && sh.size() == 2 ? ((Number) sh.get(0)).longValue() * ((Number) sh.get(1)).longValue() : 0;
            params += n;
            bytes += b;
            out.printf("%-" + w + "s  %-16s  %4s  %5s  %-12s  %10d  %7s%n", e.getKey(), format(d), d.getOrDefault("bits", "-"),
                    d.getOrDefault("group_size", "-"), flat(d.get("shape")), b, n == 0 ? "-" : String.format("%.3f", 8.0 * b / n));
        }
        out.printf("%d compressed linears, %,d weights in %,d bytes: %.3f bits/weight (stored bytes)%n",
                compressed.size(), params, bytes, params == 0 ? 0.0 : 8.0 * bytes / params);
    }

    /** The format and what distinguishes it: "uniform sym", "nm 2:4", "lowrank r=8", "dense_and_sparse(uniform)". */
    private static String format(Map<?, ?> d) {
        String f = String.valueOf(d.get("format"));
        if (Boolean.TRUE.equals(d.get("symmetric"))) f += " sym";
        if (Boolean.TRUE.equals(d.get("act_order"))) f += " act";
        if (d.get("n") != null && d.get("m") != null) f += " " + d.get("n") + ":" + d.get("m");
        if (d.get("rank") != null) f += " r=" + d.get("rank");
        if (d.get("columns") != null) f += " c=" + d.get("columns");
        if (d.get("base") instanceof Map<?, ?> base) f += "(" + format(base) + ")";
        return f;
    }

    /** A value on one line: lists as [a, b], maps as {k v, ...}. */
    private static String flat(Object v) {
        if (v instanceof Map<?, ?> m) {
            StringBuilder b = new StringBuilder("{");
            for (Map.Entry<?, ?> e : m.entrySet()) b.append(b.length() > 1 ? ", " : "").append(e.getKey()).append(' ').append(flat(e.getValue()));
            return b.append('}').toString();
        }
        return String.valueOf(v);
    }

    static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] u = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int i = -1;
        while (v >= 1024 && i < u.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format("%.1f %s", v, u[i]);
    }
}
