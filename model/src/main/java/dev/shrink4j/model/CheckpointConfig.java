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
 * gives layers different FFN widths describes weights a Hugging Face loader cannot build from the
 * config alone: it would find no {@code q_proj.weight} and initialise that layer at random. Such a
 * config gets two marks:
 * <ul>
 *   <li>{@code "model_type": "shrink4j"}: transformers' {@code AutoConfig} raises "model type shrink4j
 *       but Transformers does not recognize this architecture" (vLLM likewise), so the load stops;</li>
 *   <li>{@code "quantization_config": {"quant_method": "shrink4j", "base_model_type": "llama", ...}}:
 *       says what the weights are and keeps the original model_type. On its own it would not stop
 *       recent transformers, which only warns "Unknown quantization type ... we will skip the
 *       quantization" and then initialises the missing weights at random.</li>
 * </ul>
 * A config that describes a plain dense model loses a stale marking (model_type restored), so a dense
 * output stays loadable everywhere. {@link ModelConfig} reads marked and unmarked configs alike.
 */
public final class CheckpointConfig {
    /** The {@code quantization_config.quant_method} of shrink4j-compressed checkpoints. */
    public static final String QUANT_METHOD = "shrink4j";
    /** The {@code model_type} of a marked config: unknown to other loaders, so they refuse it. */
    public static final String MODEL_TYPE = "shrink4j";
    /** Where a marked config keeps its original {@code model_type} (inside {@code quantization_config}). */
    public static final String BASE_MODEL_TYPE = "base_model_type";

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

    /** Adds or removes our marking ({@code model_type} and {@code quantization_config}) as the {@code shrink4j} block requires; Modified. */
    public static void mark(Map<String, Object> config) {
        String base = baseModelType(config);
        if (needsMarking(config.get("shrink4j"))) {
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("quant_method", QUANT_METHOD);
            q.put("format_version", 1);
            if (base != null) q.put(BASE_MODEL_TYPE, base);
            q.put("note", "weights in shrink4j formats (see the shrink4j block); load with shrink4j");
            config.put("model_type", MODEL_TYPE);
            config.put("quantization_config", q);
        } else if (isMarked(config)) {
            config.remove("quantization_config");
            if (base != null) config.put("model_type", base);
            else config.remove("model_type");
        }
    }

    /** The network's model_type ("llama", "qwen2", ...): the config's own, or the one a marking keeps; null if none. */
    public static String baseModelType(Map<String, ?> config) {
        if (isMarked(config)) {
            return config.get("quantization_config") instanceof Map<?, ?> q && q.get(BASE_MODEL_TYPE) instanceof String s ? s : null;
        }
        return config.get("model_type") instanceof String s ? s : null;
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
