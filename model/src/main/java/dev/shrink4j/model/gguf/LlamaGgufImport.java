package dev.shrink4j.model.gguf;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.gguf.GgufFile;
import dev.shrink4j.tensors.gguf.GgufType;
import dev.shrink4j.tensors.gguf.GgufValue;
import dev.shrink4j.tensors.io.CheckpointWriter;
import dev.shrink4j.tensors.io.Json;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a llama-architecture GGUF file as a Hugging Face checkpoint directory: tensors renamed back,
 * Q/K rows un-permuted, F32/F16/BF16 tensors copied bit for bit (unless {@code dtype} asks for
 * another), block-quantized tensors dequantized ({@code dtype}, F32 by default). {@code config.json}
 * and the tokenizer files come from the {@code shrink4j.hf.*} keys when the file carries them (our
 * exports, and llama.cpp's re-quantizations of them, which copy every key); otherwise config.json is
 * rebuilt from the {@code llama.*} keys and no tokenizer is written (said on the result).
 */
public final class LlamaGgufImport {
    private LlamaGgufImport() {}

    /** What was written. */
    public record Result(Path dir, int tensors, boolean tokenizer, Map<GgufType, Integer> typesRead) {}

    /** @param dtype target dtype for every tensor, or null to keep float tensors as they are and widen blocks to F32 */
    public static Result write(Path ggufPath, Path outDir, DType dtype, boolean force) {
        try (Arena mapped = Arena.ofShared()) {
            GgufFile g = GgufFile.open(ggufPath, mapped);
            String arch = g.get("general.architecture").asString();
            if (!arch.equals("llama")) throw new ShrinkException(ggufPath + ": GGUF architecture \"" + arch + "\"; shrink4j converts \"llama\" files");
            int heads = (int) g.get("llama.attention.head_count").asLong();
            int kvHeads = g.metadata().containsKey("llama.attention.head_count_kv") ? (int) g.get("llama.attention.head_count_kv").asLong() : heads;
            Map<GgufType, Integer> types = new LinkedHashMap<>();
            boolean tied = !g.tensors().containsKey("output.weight");
            try (CheckpointWriter w = CheckpointWriter.create(outDir, CheckpointWriter.Options.defaults().withForce(force))) {
                for (GgufFile.TensorEntry e : g.tensors().values()) {
                    String hf = LlamaGgufNames.toHf(e.name(), ggufPath);
                    types.merge(e.type(), 1, Integer::sum);
                    int ropeHeads = LlamaGgufNames.ropeHeads(hf, heads, kvHeads);
                    try (Arena a = Arena.ofConfined()) {
                        w.add(hf, hfTensor(g, e, ropeHeads, dtype, a));
                    }
                }
                boolean tokenizer = false;
                if (g.metadata().get(LlamaGgufExport.HF_CONFIG_KEY) instanceof GgufValue c) {
                    w.writeFile("config.json", c.asString());
                } else {
                    w.writeFile("config.json", Json.write(configFromKeys(g, tied), 2) + "\n");
                }
                if (g.metadata().get(LlamaGgufExport.HF_TOKENIZER_KEY) instanceof GgufValue t) {
                    w.writeFile("tokenizer.json", t.asString());
                    tokenizer = true;
                }
                if (g.metadata().get(LlamaGgufExport.HF_TOKENIZER_CONFIG_KEY) instanceof GgufValue t) {
                    w.writeFile("tokenizer_config.json", t.asString());
                }
                Path dir = w.commit();
                return new Result(dir, g.tensors().size(), tokenizer, types);
            }
        }
    }

    private static Tensor hfTensor(GgufFile g, GgufFile.TensorEntry e, int ropeHeads, DType dtype, Arena a) {
        boolean plain = e.type() == GgufType.F32 || e.type() == GgufType.F16 || e.type() == GgufType.BF16;
        if (plain && ropeHeads == 0 && (dtype == null || dtype == g.tensor(e.name()).dtype())) return g.tensor(e.name());
        DType target = dtype != null ? dtype : plain ? g.tensor(e.name()).dtype() : DType.F32;
        var weight = g.weight(e.name());
        int rows = weight.dOut(), cols = weight.dIn();
        int[] hfToGguf = null;
        if (ropeHeads > 0) {
            int[] g2h = LlamaGgufNames.ggufToHfRows(rows, ropeHeads);
            hfToGguf = new int[rows];
            for (int r = 0; r < rows; r++) hfToGguf[g2h[r]] = r;
        }
        Tensor out = Tensor.allocate(a, target, e.shape());
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            weight.dequantizeRow(hfToGguf == null ? r : hfToGguf[r], row, 0);
            out.writeFloats((long) r * cols, row, 0, cols);
        }
        return out;
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
