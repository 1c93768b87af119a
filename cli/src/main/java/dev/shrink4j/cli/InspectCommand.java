package dev.shrink4j.cli;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
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
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("json").desc("print JSON instead of a table").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) throws IOException {
        List<String> args = cl.getArgList();
        if (args.size() != 1) {
            throw new UsageException("expected one PATH, got " + args.size() + " arguments");
        }
        Path path = Path.of(args.get(0));
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

    static Map<String, Object> readConfig(Path dir) throws IOException {
        Path cfg = dir.resolve("config.json");
        if (!Files.exists(cfg)) {
            return null;
        }
        try {
            if (Json.parse(Files.readString(cfg)) instanceof Map<?, ?> m) {
                @SuppressWarnings("unchecked")
                Map<String, Object> map = (Map<String, Object>) m;
                return map;
            }
            throw new ShrinkException(cfg + ": not a JSON object");
        } catch (Json.JsonException e) {
            throw new ShrinkException(cfg + ": invalid JSON: " + e.getMessage());
        }
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
        if (config != null) {
            out.println("architecture: " + architecture(config));
            for (String k : SUMMARY_KEYS) {
                if (config.containsKey(k)) out.printf("  %-24s %s%n", k, config.get(k));
            }
            if (config.get("shrink4j") instanceof Map<?, ?> s) {
                out.println("  shrink4j                 " + Json.write(s, 0));
            }
        } else {
            out.println("(no config.json beside the weights)");
        }
        out.println();
        int nameWidth = Math.max(4, ckpt.names().stream().mapToInt(String::length).max().orElse(4));
        out.printf("%-" + nameWidth + "s  %-5s  %-20s  %12s%n", "name", "dtype", "shape", "bytes");
        Map<DType, long[]> byType = new EnumMap<>(DType.class);
        long elements = 0;
        long bytes = 0;
        for (String n : ckpt.names()) {
            TensorInfo i = ckpt.info(n);
            out.printf("%-" + nameWidth + "s  %-5s  %-20s  %12d%n", n, i.dtype().safetensorsName(), i.shape(), i.byteSize());
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
