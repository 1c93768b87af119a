package dev.shrink4j.model;

import static dev.shrink4j.model.JsonFields.bool;
import static dev.shrink4j.model.JsonFields.has;
import static dev.shrink4j.model.JsonFields.integer;
import static dev.shrink4j.model.JsonFields.number;
import static dev.shrink4j.model.JsonFields.text;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Llama-family hyperparameters of a Hugging Face {@code config.json}, plus the {@code shrink4j}
 * block of compressed checkpoints (per-layer FFN widths, blocks without attention, compressed tensor
 * formats). Immutable; build one with {@link #load(Path)} or {@link #parse(Map, String)}. JSON is the
 * project's one object model, {@link Json} (maps and lists; docs/DESIGN.md). A {@code quantization_config}
 * is read only to refuse other tools' quantized checkpoints: ours is marked {@code "quant_method":
 * "shrink4j"} ({@link CheckpointConfig}) and read like an unmarked one.
 *
 * @param architecture    {@code LlamaForCausalLM}, {@code MistralForCausalLM} or {@code Qwen2ForCausalLM}
 * @param headDim         per-head width (explicit {@code head_dim}, else hidden / heads)
 * @param intermediateSizes FFN width per layer (all equal unless structurally pruned)
 * @param attentionBias   q/k/v carry biases (Qwen2 always; Llama when {@code attention_bias})
 * @param outputBias      o_proj carries a bias (Llama {@code attention_bias})
 * @param slidingWindow   Mistral's attention window in tokens, 0 when unbounded
 * @param attentionRemoved layers whose attention sub-block was removed (2SSP, docs/methods/2ssp.md §5)
 * @param compressedTensors module name → format descriptor of compressed linears (unmodifiable JSON objects)
 * @param raw             the whole config.json (unmodifiable), kept so writers can preserve unknown keys
 */
public record ModelConfig(
        String architecture,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int maxPositions,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        boolean outputBias,
        int slidingWindow,
        int bosTokenId,
        int[] eosTokenIds,
        int[] intermediateSizes,
        BitSet attentionRemoved,
        Map<String, Map<String, Object>> compressedTensors,
        Map<String, Object> raw) {

    /** The architectures whose forward and backward this module implements. */
    public static final List<String> SUPPORTED = List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM");

    /**
     * RoPE frequency scaling from {@code rope_scaling}: {@code none}, {@code linear} (positions ÷
     * factor) or {@code llama3} (per-frequency smooth interpolation, Llama-3.1).
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
        public static final RopeScaling NONE = new RopeScaling("none", 1, 0, 0, 0);
    }

    /** Reads {@code dir/config.json} (or the file itself when {@code path} is a JSON file, or the metadata of a {@code .gguf} file). */
    public static ModelConfig load(Path path) {
        if (dev.shrink4j.model.gguf.GgufCheckpoint.is(path)) return dev.shrink4j.model.gguf.GgufCheckpoint.config(path);
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new ShrinkException("no config.json in " + path + " (expected a Hugging Face model directory)");
        }
        Object node;
        try {
            node = Json.parse(Files.readString(file));
        } catch (IOException | Json.JsonException e) {
            throw new ShrinkException("cannot parse " + file + ": " + e.getMessage(), e);
        }
        if (!(node instanceof Map<?, ?> m)) throw new ShrinkException(file + ": config is not a JSON object");
        @SuppressWarnings("unchecked")
        Map<String, Object> obj = (Map<String, Object>) m;
        return parse(obj, file.toString());
    }

    /** Parses a config object ({@link Json}'s model); {@code source} names it in error messages. */
    public static ModelConfig parse(Map<String, ?> obj, String source) {
        if (obj == null) {
            throw new ShrinkException(source + ": config is not a JSON object");
        }
        String arch = architecture(obj, source);
        Map<String, Object> quant = JsonFields.object(obj, "quantization_config");
        if (quant != null && !CheckpointConfig.QUANT_METHOD.equals(text(quant, "quant_method", null))) {
            throw new ShrinkException(source + ": quantization_config.quant_method " + text(quant, "quant_method", "(none)")
                    + " is another tool's quantization; shrink4j reads dense checkpoints and its own (quant_method "
                    + CheckpointConfig.QUANT_METHOD + ")");
        }
        boolean qwen = arch.equals("Qwen2ForCausalLM");
        String act = text(obj, "hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new ShrinkException(source + ": unsupported hidden_act " + act + "; supported: silu");
        }
        if (bool(obj, "mlp_bias", false)) {
            throw new ShrinkException(source + ": mlp_bias=true is not supported");
        }
        int hidden = requireInt(obj, "hidden_size", source);
        int layers = requireInt(obj, "num_hidden_layers", source);
        int heads = requireInt(obj, "num_attention_heads", source);
        int kvHeads = strictInt(obj, "num_key_value_heads", heads, source);
        int headDim = strictInt(obj, "head_dim", heads == 0 ? 0 : hidden / heads, source);
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new ShrinkException(source + ": num_attention_heads " + heads + " must be a positive multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new ShrinkException(source + ": head_dim " + headDim + " must be positive and even (RoPE rotates pairs)");
        }
        int vocab = requireInt(obj, "vocab_size", source);
        int maxPos = strictInt(obj, "max_position_embeddings", 2048, source);
        double eps = number(obj, "rms_norm_eps", 1e-6);
        double theta = number(obj, "rope_theta", 10000.0);
        RopeScaling scaling = ropeScaling(JsonFields.object(obj, "rope_scaling"), source);
        boolean tied = bool(obj, "tie_word_embeddings", false);
        boolean llamaBias = bool(obj, "attention_bias", false);
        boolean qkvBias = qwen || llamaBias;
        boolean oBias = !qwen && llamaBias;
        int window = 0;
        if (arch.equals("MistralForCausalLM") && has(obj, "sliding_window")) {
            window = strictInt(obj, "sliding_window", 0, source);
        } else if (qwen && bool(obj, "use_sliding_window", false) && has(obj, "sliding_window")) {
            throw new ShrinkException(source + ": Qwen2 use_sliding_window=true is not supported");
        }
        int bos = strictInt(obj, "bos_token_id", 1, source);
        int[] eos = intList(obj.get("eos_token_id"), source);

        Map<String, Object> sh = JsonFields.object(obj, "shrink4j");
        // Bounds before anything is sized by them: a hostile config must not allocate 10⁹ of anything.
        within(source, "hidden_size", hidden, 1, 1 << 20);
        within(source, "num_hidden_layers", layers, 1, MAX_LAYERS);
        within(source, "num_attention_heads", heads, 1, 1 << 14);
        within(source, "head_dim", headDim, 2, 1 << 16);
        within(source, "vocab_size", vocab, 1, 1 << 24);
        within(source, "max_position_embeddings", maxPos, 1, 1 << 24);
        within(source, "sliding_window", window, 0, Integer.MAX_VALUE);
        int[] inter = intermediateSizes(obj, sh, layers, source);
        for (int size : inter) within(source, "intermediate_size", size, 0, 1 << 22);
        BitSet removed = new BitSet(layers);
        Map<String, Map<String, Object>> tensors = new LinkedHashMap<>();
        if (sh != null) {
            int version = strictInt(sh, "format_version", 1, source);
            if (version != 1) {
                throw new ShrinkException(source + ": shrink4j.format_version " + version + " is newer than this tool (supports 1)");
            }
            for (Object l : JsonFields.list(sh, "attention_removed")) {
                int i = exactInt(l, "shrink4j.attention_removed entry", source);
                if (i < 0 || i >= layers) {
                    throw new ShrinkException(source + ": shrink4j.attention_removed names layer " + l + ", model has " + layers);
                }
                removed.set(i);
            }
            Map<String, Object> t = JsonFields.object(sh, "tensors");
            if (t != null) {
                for (Map.Entry<String, Object> e : t.entrySet()) {
                    Map<String, Object> d = JsonFields.object(t, e.getKey());
                    if (d == null) throw new ShrinkException(source + ": shrink4j.tensors." + e.getKey() + " is not a JSON object");
                    tensors.put(e.getKey(), Collections.unmodifiableMap(new LinkedHashMap<>(d)));
                }
            }
        }
        return new ModelConfig(arch, hidden, layers, heads, kvHeads, headDim, vocab, maxPos, eps, theta, scaling,
                tied, qkvBias, oBias, window, bos, eos, inter, removed, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(new LinkedHashMap<>(obj)));
    }

    private static String architecture(Map<String, ?> obj, String source) {
        List<?> archs = JsonFields.list(obj, "architectures");
        String base = CheckpointConfig.baseModelType(obj);
        String arch = !archs.isEmpty() ? text(archs.get(0), "(none)") : base != null ? base : "(none)";
        if (!SUPPORTED.contains(arch)) {
            throw new ShrinkException(source + ": unsupported architecture " + arch + "; supported: " + String.join(", ", SUPPORTED));
        }
        return arch;
    }

    private static int[] intermediateSizes(Map<String, ?> obj, Map<String, Object> sh, int layers, String source) {
        Object per = sh != null ? sh.get("intermediate_sizes") : null;
        if (per == null && obj.get("intermediate_size") instanceof List<?>) {
            per = obj.get("intermediate_size");
        }
        if (per instanceof List<?> l) {
            if (l.size() != layers) {
                throw new ShrinkException(source + ": " + l.size() + " per-layer intermediate sizes for " + layers + " layers");
            }
            int[] out = new int[layers];
            for (int i = 0; i < layers; i++) {
                out[i] = exactInt(l.get(i), "intermediate size " + i, source);
            }
            return out;
        }
        int[] out = new int[layers];
        Arrays.fill(out, requireInt(obj, "intermediate_size", source));
        return out;
    }

    private static RopeScaling ropeScaling(Map<String, Object> rs, String source) {
        if (rs == null) {
            return RopeScaling.NONE;
        }
        String type = has(rs, "rope_type") ? text(rs, "rope_type", "default") : text(rs, "type", "default");
        return switch (type) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> new RopeScaling("linear", number(rs, "factor", 1), 0, 0, 0);
            case "llama3" -> new RopeScaling("llama3", number(rs, "factor", 8), number(rs, "low_freq_factor", 1),
                    number(rs, "high_freq_factor", 4), strictInt(rs, "original_max_position_embeddings", 8192, source));
            default -> throw new ShrinkException(source + ": unsupported rope_scaling type " + type + "; supported: linear, llama3");
        };
    }

    /** Most decoder layers a config may declare (the largest released models have about 130). */
    static final int MAX_LAYERS = 1 << 14;

    private static void within(String source, String key, long value, long min, long max) {
        if (value < min || value > max) {
            throw new ShrinkException(source + ": " + key + " " + value + " is outside [" + min + ", " + max + "]");
        }
    }

    private static int requireInt(Map<String, ?> obj, String key, String source) {
        if (obj.get(key) == null) throw new ShrinkException(source + ": missing \"" + key + "\"");
        return exactInt(obj.get(key), "\"" + key + "\"", source);
    }

    /** {@code key}'s integer, or {@code def} when absent or null; never truncated (see {@link #exactInt}). */
    private static int strictInt(Map<String, ?> obj, String key, int def, String source) {
        Object v = obj.get(key);
        return v == null ? def : exactInt(v, "\"" + key + "\"", source);
    }

    /**
     * {@code v} as an int: a fraction (12.5), a value beyond int (3e9) or a non-number is one clear error
     * naming {@code what}, never silently truncated or saturated by {@code Number.intValue}.
     */
    static int exactInt(Object v, String what, String source) {
        if (!(v instanceof Number n)) {
            throw new ShrinkException(source + ": " + what + " is " + (v instanceof String ? "\"" + v + "\"" : v) + ", expected an integer");
        }
        String shown = n instanceof Double d ? java.math.BigDecimal.valueOf(d).stripTrailingZeros().toPlainString() : n.toString();
        if (n instanceof Double d && (d != Math.rint(d) || Double.isNaN(d))) {
            throw new ShrinkException(source + ": " + what + " is " + shown + ", expected an integer");
        }
        double d = n.doubleValue();
        if (n instanceof Long l ? l > Integer.MAX_VALUE || l < Integer.MIN_VALUE : d > Integer.MAX_VALUE || d < Integer.MIN_VALUE) {
            throw new ShrinkException(source + ": " + what + " is " + shown + ", beyond the integer range this tool reads (±2147483647)");
        }
        return n.intValue();
    }

    private static int[] intList(Object n, String source) {
        if (n == null) {
            return new int[0];
        }
        if (n instanceof List<?> l) {
            return l.stream().filter(v -> v != null).mapToInt(v -> exactInt(v, "eos_token_id entry", source)).toArray();
        }
        return new int[] {exactInt(n, "\"eos_token_id\"", source)};
    }

    /** FFN width of layer {@code layer}. */
    public int intermediateSize(int layer) {
        return intermediateSizes[layer];
    }

    /** Whether layer {@code layer} still has its attention sub-block. */
    public boolean hasAttention(int layer) {
        return !attentionRemoved.get(layer);
    }

    /** Query heads per key/value head (GQA group size). */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** Whether {@code token} ends generation. */
    public boolean isEos(int token) {
        for (int e : eosTokenIds) if (e == token) return true;
        return false;
    }

    /** The default context length used for calibration windows: min(2048, max_position_embeddings). */
    public int defaultSeqLen() {
        return Math.min(2048, maxPositions);
    }

    /** The network's model_type ("llama", "mistral", "qwen2"); a marked config's original one ({@link CheckpointConfig}). */
    public String modelType() {
        String t = CheckpointConfig.baseModelType(raw);
        return t == null ? "" : t;
    }

    @Override
    public String toString() {
        return architecture + "[hidden " + hiddenSize + ", layers " + numLayers + ", heads " + numHeads + "/" + numKvHeads
                + ", head_dim " + headDim + ", vocab " + vocabSize + ", ctx " + maxPositions + "]";
    }
}
