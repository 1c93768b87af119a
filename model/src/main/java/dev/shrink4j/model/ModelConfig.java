package dev.shrink4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shrink4j.tensors.ShrinkException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Llama-family hyperparameters of a Hugging Face {@code config.json}, plus the {@code shrink4j}
 * block of compressed checkpoints (per-layer FFN widths, blocks without attention, compressed tensor
 * formats). Immutable; build one with {@link #load(Path)} or {@link #parse(JsonNode, String)}.
 *
 * @param architecture    {@code LlamaForCausalLM}, {@code MistralForCausalLM} or {@code Qwen2ForCausalLM}
 * @param headDim         per-head width (explicit {@code head_dim}, else hidden / heads)
 * @param intermediateSizes FFN width per layer (all equal unless structurally pruned)
 * @param attentionBias   q/k/v carry biases (Qwen2 always; Llama when {@code attention_bias})
 * @param outputBias      o_proj carries a bias (Llama {@code attention_bias})
 * @param slidingWindow   Mistral's attention window in tokens, 0 when unbounded
 * @param attentionRemoved layers whose attention sub-block was removed (2SSP, METHODS §5.5)
 * @param compressedTensors module name → format description of compressed linears (raw JSON objects)
 * @param raw             the whole config.json, kept so writers can preserve unknown keys
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
        Map<String, JsonNode> compressedTensors,
        ObjectNode raw) {

    /** The architectures whose forward and backward this module implements. */
    public static final List<String> SUPPORTED = List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM");

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * RoPE frequency scaling from {@code rope_scaling}: {@code none}, {@code linear} (positions ÷
     * factor) or {@code llama3} (per-frequency smooth interpolation, Llama-3.1).
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
        public static final RopeScaling NONE = new RopeScaling("none", 1, 0, 0, 0);
    }

    /** Reads {@code dir/config.json} (or the file itself when {@code path} is a JSON file). */
    public static ModelConfig load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new ShrinkException("no config.json in " + path + " (expected a Hugging Face model directory)");
        }
        JsonNode node;
        try {
            node = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ShrinkException("cannot parse " + file + ": " + e.getMessage(), e);
        }
        return parse(node, file.toString());
    }

    /** Parses a config tree; {@code source} names it in error messages. */
    public static ModelConfig parse(JsonNode node, String source) {
        if (!(node instanceof ObjectNode obj)) {
            throw new ShrinkException(source + ": config is not a JSON object");
        }
        String arch = architecture(obj, source);
        boolean qwen = arch.equals("Qwen2ForCausalLM");
        String act = obj.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new ShrinkException(source + ": unsupported hidden_act " + act + "; supported: silu");
        }
        if (obj.path("mlp_bias").asBoolean(false)) {
            throw new ShrinkException(source + ": mlp_bias=true is not supported");
        }
        int hidden = requireInt(obj, "hidden_size", source);
        int layers = requireInt(obj, "num_hidden_layers", source);
        int heads = requireInt(obj, "num_attention_heads", source);
        int kvHeads = obj.hasNonNull("num_key_value_heads") ? obj.get("num_key_value_heads").asInt() : heads;
        int headDim = obj.hasNonNull("head_dim") ? obj.get("head_dim").asInt() : hidden / heads;
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new ShrinkException(source + ": num_attention_heads " + heads + " must be a positive multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new ShrinkException(source + ": head_dim " + headDim + " must be positive and even (RoPE rotates pairs)");
        }
        int vocab = requireInt(obj, "vocab_size", source);
        int maxPos = obj.path("max_position_embeddings").asInt(2048);
        double eps = obj.path("rms_norm_eps").asDouble(1e-6);
        double theta = obj.path("rope_theta").asDouble(10000.0);
        RopeScaling scaling = ropeScaling(obj.get("rope_scaling"), source);
        boolean tied = obj.path("tie_word_embeddings").asBoolean(false);
        boolean llamaBias = obj.path("attention_bias").asBoolean(false);
        boolean qkvBias = qwen || llamaBias;
        boolean oBias = !qwen && llamaBias;
        int window = 0;
        if (arch.equals("MistralForCausalLM") && obj.hasNonNull("sliding_window")) {
            window = obj.get("sliding_window").asInt();
        } else if (qwen && obj.path("use_sliding_window").asBoolean(false) && obj.hasNonNull("sliding_window")) {
            throw new ShrinkException(source + ": Qwen2 use_sliding_window=true is not supported");
        }
        int bos = obj.path("bos_token_id").asInt(1);
        int[] eos = intList(obj.get("eos_token_id"));

        JsonNode sh = obj.get("shrink4j");
        int[] inter = intermediateSizes(obj, sh, layers, source);
        BitSet removed = new BitSet(layers);
        Map<String, JsonNode> tensors = new LinkedHashMap<>();
        if (sh != null && sh.isObject()) {
            int version = sh.path("format_version").asInt(1);
            if (version != 1) {
                throw new ShrinkException(source + ": shrink4j.format_version " + version + " is newer than this tool (supports 1)");
            }
            for (JsonNode l : sh.path("attention_removed")) {
                int i = l.asInt(-1);
                if (i < 0 || i >= layers) {
                    throw new ShrinkException(source + ": shrink4j.attention_removed names layer " + l + ", model has " + layers);
                }
                removed.set(i);
            }
            sh.path("tensors").properties().forEach(e -> tensors.put(e.getKey(), e.getValue()));
        }
        return new ModelConfig(arch, hidden, layers, heads, kvHeads, headDim, vocab, maxPos, eps, theta, scaling,
                tied, qkvBias, oBias, window, bos, eos, inter, removed, Collections.unmodifiableMap(tensors), obj.deepCopy());
    }

    private static String architecture(ObjectNode obj, String source) {
        JsonNode archs = obj.get("architectures");
        String arch = archs != null && archs.isArray() && !archs.isEmpty() ? archs.get(0).asText()
                : obj.path("model_type").asText("(none)");
        if (!SUPPORTED.contains(arch)) {
            throw new ShrinkException(source + ": unsupported architecture " + arch + "; supported: " + String.join(", ", SUPPORTED));
        }
        return arch;
    }

    private static int[] intermediateSizes(ObjectNode obj, JsonNode sh, int layers, String source) {
        JsonNode per = sh != null ? sh.get("intermediate_sizes") : null;
        if (per == null && obj.path("intermediate_size").isArray()) {
            per = obj.get("intermediate_size");
        }
        if (per != null && per.isArray()) {
            if (per.size() != layers) {
                throw new ShrinkException(source + ": " + per.size() + " per-layer intermediate sizes for " + layers + " layers");
            }
            int[] out = new int[layers];
            for (int i = 0; i < layers; i++) out[i] = per.get(i).asInt();
            return out;
        }
        int[] out = new int[layers];
        Arrays.fill(out, requireInt(obj, "intermediate_size", source));
        return out;
    }

    private static RopeScaling ropeScaling(JsonNode rs, String source) {
        if (rs == null || rs.isNull()) {
            return RopeScaling.NONE;
        }
        String type = rs.hasNonNull("rope_type") ? rs.get("rope_type").asText() : rs.path("type").asText("default");
        return switch (type) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> new RopeScaling("linear", rs.path("factor").asDouble(1), 0, 0, 0);
            case "llama3" -> new RopeScaling("llama3", rs.path("factor").asDouble(8), rs.path("low_freq_factor").asDouble(1),
                    rs.path("high_freq_factor").asDouble(4), rs.path("original_max_position_embeddings").asInt(8192));
            default -> throw new ShrinkException(source + ": unsupported rope_scaling type " + type + "; supported: linear, llama3");
        };
    }

    private static int requireInt(JsonNode obj, String key, String source) {
        JsonNode v = obj.get(key);
        if (v == null || !v.canConvertToInt()) {
            throw new ShrinkException(source + ": missing or non-integer \"" + key + "\"");
        }
        return v.asInt();
    }

    private static int[] intList(JsonNode n) {
        if (n == null || n.isNull()) {
            return new int[0];
        }
        if (n.isArray()) {
            List<Integer> l = new ArrayList<>();
            n.forEach(v -> l.add(v.asInt()));
            return l.stream().mapToInt(Integer::intValue).toArray();
        }
        return new int[] {n.asInt()};
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

    /** The model_type of the raw config ("llama", "mistral", "qwen2"). */
    public String modelType() {
        return raw.path("model_type").asText("");
    }

    @Override
    public String toString() {
        return architecture + "[hidden " + hiddenSize + ", layers " + numLayers + ", heads " + numHeads + "/" + numKvHeads
                + ", head_dim " + headDim + ", vocab " + vocabSize + ", ctx " + maxPositions + "]";
    }
}
