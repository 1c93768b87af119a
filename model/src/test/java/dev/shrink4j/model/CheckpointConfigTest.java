package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Marking compressed configs for other loaders, and reading marked and unmarked configs. */
class CheckpointConfigTest {
    @TempDir Path tmp;

    private static Map<String, Object> dense() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("LlamaForCausalLM"));
        c.put("model_type", "llama");
        c.put("hidden_size", 16);
        c.put("intermediate_size", 24);
        c.put("num_hidden_layers", 2);
        c.put("num_attention_heads", 4);
        c.put("num_key_value_heads", 2);
        c.put("vocab_size", 40);
        return c;
    }

    private static Map<String, Object> block(String key, Object value) {
        Map<String, Object> sh = new LinkedHashMap<>();
        sh.put("format_version", 1);
        sh.put(key, value);
        return sh;
    }

    @Test
    void compressedTensorsRemovedAttentionAndUnequalWidthsAreMarked() {
        Map<String, Object> uniform = Map.of("format", "uniform", "shape", List.of(16, 16), "bits", 4, "group_size", 16);
        for (Map<String, Object> sh : List.of(block("tensors", Map.of("model.layers.0.self_attn.q_proj", uniform)),
                block("attention_removed", List.of(1)), block("intermediate_sizes", List.of(24, 12)))) {
            Map<String, Object> c = dense();
            c.put("shrink4j", sh);
            CheckpointConfig.mark(c);
            assertTrue(CheckpointConfig.isMarked(c), sh.toString());
            Map<?, ?> q = (Map<?, ?>) c.get("quantization_config");
            assertEquals("shrink4j", q.get("quant_method"));
            // Recent transformers only warns about an unknown quant_method; an unknown model_type stops AutoConfig.
            assertEquals("shrink4j", c.get("model_type"));
            assertEquals("llama", q.get("base_model_type"));
            assertEquals("llama", CheckpointConfig.baseModelType(c));
            CheckpointConfig.mark(c); // idempotent: the base type survives a second marking
            assertEquals("llama", CheckpointConfig.baseModelType(c));
        }
    }

    @Test
    void aDenseConfigIsNotMarkedAndLosesAStaleMarking() {
        Map<String, Object> c = dense();
        c.put("shrink4j", block("intermediate_sizes", List.of(24, 24)));
        CheckpointConfig.mark(c);
        assertFalse(c.containsKey("quantization_config"));
        c.put("quantization_config", Map.of("quant_method", "shrink4j", "base_model_type", "llama"));
        c.put("model_type", "shrink4j");
        CheckpointConfig.mark(c);
        assertFalse(c.containsKey("quantization_config"));
        assertEquals("llama", c.get("model_type"), "the original model_type comes back");
        c.put("quantization_config", Map.of("quant_method", "gptq"));
        CheckpointConfig.mark(c);
        assertEquals(Map.of("quant_method", "gptq"), c.get("quantization_config"), "someone else's marking is kept");
    }

    @Test
    void ourLoaderReadsMarkedAndUnmarkedConfigs() throws Exception {
        Map<String, Object> c = dense();
        Files.writeString(tmp.resolve("config.json"), Json.write(c, 2));
        ModelConfig unmarked = ModelConfig.load(tmp);
        c.put("shrink4j", block("attention_removed", List.of(1)));
        Files.writeString(tmp.resolve("config.json"), Json.write(c, 2));
        ModelConfig plain = ModelConfig.load(tmp);
        Files.writeString(tmp.resolve("config.json"), CheckpointConfig.toJson(c));
        ModelConfig marked = ModelConfig.load(tmp);
        assertEquals("shrink4j", CheckpointConfig.read(tmp).get("model_type"));
        assertEquals(plain.toString(), marked.toString());
        assertEquals("llama", unmarked.modelType());
        assertEquals("llama", marked.modelType());
        assertFalse(marked.hasAttention(1));
    }

    @Test
    void requireDenseNamesTheFile() throws Exception {
        Map<String, Object> c = dense();
        c.put("shrink4j", block("tensors", Map.of("model.layers.0.self_attn.q_proj", Map.of("format", "uniform"))));
        Files.writeString(tmp.resolve("config.json"), CheckpointConfig.toJson(c));
        ShrinkException e = assertThrows(ShrinkException.class, () -> CheckpointConfig.requireDense(tmp, "lowrank"));
        assertTrue(e.getMessage().startsWith(tmp.resolve("config.json") + ": the checkpoint is already compressed (1 linears"), e.getMessage());
        Files.writeString(tmp.resolve("config.json"), Json.write(dense(), 2));
        CheckpointConfig.requireDense(tmp, "lowrank");
    }
}
