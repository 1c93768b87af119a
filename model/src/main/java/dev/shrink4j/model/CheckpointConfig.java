package dev.shrink4j.model;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one place where a writer turns a config map into the {@code config.json} of its output, and
 * marks outputs that other loaders must not read as plain dense models (docs/formats.md, "Marking").
 *
 * <p>A config whose {@code shrink4j} block names compressed tensors, removes attention from a layer or
 * gives layers different FFN widths describes weights a Hugging Face loader cannot build from
 * {@code architectures} alone: it would find no {@code q_proj.weight} and initialise that layer at
 * random, silently. Such a config gets {@code "quantization_config": {"quant_method": "shrink4j", ...}};
 * transformers raises "Unknown quantization type" for a quant_method it does not know, so it refuses
 * the checkpoint instead. A config that describes a plain dense model loses a stale marking, so a
 * dense output stays loadable everywhere. {@link ModelConfig} reads marked and unmarked configs.
 */
public final class CheckpointConfig {
    /** The {@code quantization_config.quant_method} of shrink4j-compressed checkpoints. */
    public static final String QUANT_METHOD = "shrink4j";

    private CheckpointConfig() {}

    /**
     * {@code dir/config.json} as an ordered, mutable map, or an empty map when the directory has none
     * (a bare safetensors directory); one clear {@link ShrinkException} naming the file when it is not
     * a JSON object.
     */
    public static Map<String, Object> read(Path dir) {
        Path cfg = dir.resolve("config.json");
        if (!Files.exists(cfg)) return new LinkedHashMap<>();
        try {
            if (Json.parse(Files.readString(cfg)) instanceof Map<?, ?> m) {
                @SuppressWarnings("unchecked")
                Map<String, Object> map = new LinkedHashMap<>((Map<String, Object>) m);
                return map;
            }
            throw new ShrinkException(cfg + ": not a JSON object");
        } catch (IOException e) {
            throw new ShrinkException(cfg + ": " + e.getMessage(), e);
        } catch (Json.JsonException e) {
            throw new ShrinkException(cfg + ": invalid JSON: " + e.getMessage());
        }
    }

    /**
     * Refuses a compressed checkpoint for {@code what} (e.g. "lowrank"), which reads dense weights: one
     * {@link ShrinkException} naming {@code dir/config.json} and the way out.
     */
    public static void requireDense(Path dir, String what) {
        Map<String, Object> config = read(dir);
        if (config.get("shrink4j") instanceof Map<?, ?> sh && sh.get("tensors") instanceof Map<?, ?> t && !t.isEmpty()) {
            throw new ShrinkException(dir.resolve("config.json") + ": the checkpoint is already compressed (" + t.size()
                    + " linears in shrink4j formats) and " + what + " reads dense weights: start from the original (dense) checkpoint");
        }
    }

    /** The text of {@code config.json} for {@code config} (Modified: marked or unmarked first, see the class comment). */
    public static String toJson(Map<String, Object> config) {
        mark(config);
        return Json.write(config, 2) + "\n";
    }

    /** Adds or removes our {@code quantization_config} as the {@code shrink4j} block requires; Modified. */
    public static void mark(Map<String, Object> config) {
        if (needsMarking(config.get("shrink4j"))) {
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("quant_method", QUANT_METHOD);
            q.put("format_version", 1);
            q.put("note", "weights in shrink4j formats (see the shrink4j block); load with shrink4j or export with --format dense");
            config.put("quantization_config", q);
        } else if (isMarked(config)) {
            config.remove("quantization_config");
        }
    }

    /** Whether {@code config} carries our {@code quantization_config}. */
    public static boolean isMarked(Map<String, ?> config) {
        return config.get("quantization_config") instanceof Map<?, ?> q && QUANT_METHOD.equals(q.get("quant_method"));
    }

    private static boolean needsMarking(Object block) {
        if (!(block instanceof Map<?, ?> sh)) return false;
        if (sh.get("tensors") instanceof Map<?, ?> t && !t.isEmpty()) return true;
        if (sh.get("attention_removed") instanceof List<?> r && !r.isEmpty()) return true;
        return sh.get("intermediate_sizes") instanceof List<?> w && w.stream().distinct().count() > 1;
    }
}
