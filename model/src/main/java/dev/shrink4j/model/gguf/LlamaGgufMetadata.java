package dev.shrink4j.model.gguf;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.gguf.GgufFile;
import dev.shrink4j.tensors.gguf.GgufValue;
import dev.shrink4j.tensors.io.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a llama-architecture GGUF file says about the model besides its tensors: the head counts the
 * Q/K row permutation needs, the Hugging Face {@code config.json} (our exports carry it verbatim under
 * {@code shrink4j.hf.config_json}; otherwise rebuilt from the {@code llama.*} keys) and the tokenizer
 * files ({@code shrink4j.hf.tokenizer_json}, only in files written by shrink4j or re-quantized from
 * them). Shared by the converter ({@link LlamaGgufImport}) and the mapped checkpoint ({@link GgufCheckpoint}).
 */
final class LlamaGgufMetadata {
    private LlamaGgufMetadata() {}

    /** Refuses other architectures: one line naming the file. */
    static void requireLlama(GgufFile g) {
        String arch = g.get("general.architecture").asString();
        if (!arch.equals("llama")) throw new ShrinkException(g.path() + ": GGUF architecture \"" + arch + "\"; shrink4j converts \"llama\" files");
    }

    static int heads(GgufFile g) {
        return (int) g.get("llama.attention.head_count").asLong();
    }

    static int kvHeads(GgufFile g) {
        return g.metadata().containsKey("llama.attention.head_count_kv") ? (int) g.get("llama.attention.head_count_kv").asLong() : heads(g);
    }

    /** Whether the file has no {@code output.weight} (the head is the embedding). */
    static boolean tied(GgufFile g) {
        return !g.tensors().containsKey("output.weight");
    }

    /** The text of config.json: the carried one, else rebuilt from the keys. */
    static String configJson(GgufFile g) {
        if (g.metadata().get(LlamaGgufExport.HF_CONFIG_KEY) instanceof GgufValue c) return c.asString();
        return Json.write(configFromKeys(g, tied(g)), 2) + "\n";
    }

    /** config.json as an ordered, mutable map; one line naming the file when the carried text is not a JSON object. */
    static Map<String, Object> config(GgufFile g) {
        String text = configJson(g);
        try {
            if (Json.parse(text) instanceof Map<?, ?> m) {
                @SuppressWarnings("unchecked")
                Map<String, Object> map = new LinkedHashMap<>((Map<String, Object>) m);
                return map;
            }
        } catch (Json.JsonException e) {
            throw new ShrinkException(g.path() + ": " + LlamaGgufExport.HF_CONFIG_KEY + " is not valid JSON: " + e.getMessage());
        }
        throw new ShrinkException(g.path() + ": " + LlamaGgufExport.HF_CONFIG_KEY + " is not a JSON object");
    }

    /** The carried tokenizer.json text, or null. */
    static String tokenizerJson(GgufFile g) {
        return g.metadata().get(LlamaGgufExport.HF_TOKENIZER_KEY) instanceof GgufValue t ? t.asString() : null;
    }

    /** The carried tokenizer_config.json text, or null. */
    static String tokenizerConfigJson(GgufFile g) {
        return g.metadata().get(LlamaGgufExport.HF_TOKENIZER_CONFIG_KEY) instanceof GgufValue t ? t.asString() : null;
    }

    /** A Hugging Face config.json from the {@code llama.*} keys of a GGUF file from elsewhere. */
    static Map<String, Object> configFromKeys(GgufFile g, boolean tied) {
        Map<String, Object> c = new LinkedHashMap<>();
        long hidden = g.get("llama.embedding_length").asLong(), heads = g.get("llama.attention.head_count").asLong();
        c.put("architectures", List.of("LlamaForCausalLM"));
        c.put("model_type", "llama");
        c.put("hidden_size", hidden);
        c.put("intermediate_size", g.get("llama.feed_forward_length").asLong());
        c.put("num_hidden_layers", g.get("llama.block_count").asLong());
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", g.metadata().containsKey("llama.attention.head_count_kv") ? g.get("llama.attention.head_count_kv").asLong() : heads);
        c.put("head_dim", g.metadata().containsKey("llama.attention.key_length") ? g.get("llama.attention.key_length").asLong() : hidden / heads);
        c.put("vocab_size", g.metadata().containsKey("llama.vocab_size") ? g.get("llama.vocab_size").asLong()
                : (long) g.get("tokenizer.ggml.tokens").asArray().values().size());
        c.put("max_position_embeddings", g.get("llama.context_length").asLong());
        c.put("rms_norm_eps", g.get("llama.attention.layer_norm_rms_epsilon").asDouble());
        c.put("rope_theta", g.metadata().containsKey("llama.rope.freq_base") ? g.get("llama.rope.freq_base").asDouble() : 10000.0);
        c.put("tie_word_embeddings", tied);
        if (g.metadata().containsKey("tokenizer.ggml.bos_token_id")) c.put("bos_token_id", g.get("tokenizer.ggml.bos_token_id").asLong());
        if (g.metadata().containsKey("tokenizer.ggml.eos_token_id")) c.put("eos_token_id", g.get("tokenizer.ggml.eos_token_id").asLong());
        c.put("torch_dtype", "float32");
        return c;
    }
}
