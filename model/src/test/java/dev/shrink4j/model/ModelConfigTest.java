package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ModelConfigTest {
    @Test
    void presetsParseWithTheirDistinguishingFeatures() {
        ModelConfig tl = ModelConfig.parse(Synthetic.preset("tinyllama-1.1b"), "p");
        assertEquals(64, tl.headDim());
        assertEquals(8, tl.groupSize());
        assertEquals(5632, tl.intermediateSize(21));
        ModelConfig q = ModelConfig.parse(Synthetic.preset("qwen2.5-0.5b"), "p");
        assertTrue(q.attentionBias());
        assertFalse(q.outputBias());
        assertTrue(q.tieWordEmbeddings());
        ModelConfig l3 = ModelConfig.parse(Synthetic.preset("llama-3.2-1b"), "p");
        assertEquals("llama3", l3.ropeScaling().type());
        assertEquals(32.0, l3.ropeScaling().factor());
        assertEquals(2048, l3.defaultSeqLen());
    }

    @Test
    void shrink4jBlockGivesPerLayerWidthsAndRemovedAttention() {
        Map<String, Object> json = TinyModels.config("MistralForCausalLM");
        json.put("head_dim", 8);
        json.put("sliding_window", 4096);
        Map<String, Object> sh = new LinkedHashMap<>();
        json.put("shrink4j", sh);
        sh.put("format_version", 1);
        sh.put("intermediate_sizes", List.of(24, 10));
        sh.put("attention_removed", List.of(1));
        sh.put("tensors", Map.of("model.layers.0.mlp.down_proj", Map.of("format", "uniform", "bits", 4)));
        ModelConfig c = ModelConfig.parse(json, "t");
        assertEquals(8, c.headDim());
        assertEquals(32, c.qDim());
        assertEquals(4096, c.slidingWindow());
        assertArrayEquals(new int[] {24, 10}, c.intermediateSizes());
        assertTrue(c.hasAttention(0));
        assertFalse(c.hasAttention(1));
        assertEquals("uniform", c.compressedTensors().get("model.layers.0.mlp.down_proj").get("format"));
        // The structurally pruned model has exactly the smaller tensors and runs.
        Map<String, Object> dense = new LinkedHashMap<>(json);
        Map<String, Object> denseBlock = new LinkedHashMap<>(sh);
        denseBlock.remove("tensors");
        dense.put("shrink4j", denseBlock);
        ModelConfig dc = ModelConfig.parse(dense, "t");
        assertFalse(Synthetic.tensorShapes(dc).containsKey("model.layers.1.self_attn.q_proj.weight"));
        assertArrayEquals(new long[] {10, 16}, Synthetic.tensorShapes(dc).get("model.layers.1.mlp.gate_proj.weight"));
        try (Arena arena = Arena.ofShared()) {
            LlamaModel m = LlamaModel.of(dc, Synthetic.inMemory(dc, DType.BF16, 0.1, 1, arena));
            float[] logits = m.logits(new int[] {1, 5, 9});
            assertEquals(3 * 40, logits.length);
            for (float v : logits) assertTrue(Float.isFinite(v));
            // A compressed entry without its tensors is named in the error.
            ShrinkException e = assertThrows(ShrinkException.class, () -> LlamaModel.of(c, Synthetic.inMemory(dc, DType.F32, 0.1, 1, arena)));
            assertTrue(e.getMessage().contains("model.layers.0.mlp.down_proj"), e.getMessage());
        }
    }

    /** config.json integers are read exactly: a fraction or a value beyond int is one line, never truncated or saturated. */
    @Test
    void integersAreNeverTruncated() {
        Object[][] cases = {
            {"num_hidden_layers", 3e9, "c: \"num_hidden_layers\" is 3000000000, beyond the integer range this tool reads (±2147483647)"},
            {"num_hidden_layers", 3000000000L, "c: \"num_hidden_layers\" is 3000000000, beyond the integer range this tool reads (±2147483647)"},
            {"num_hidden_layers", 12.5, "c: \"num_hidden_layers\" is 12.5, expected an integer"},
            {"num_hidden_layers", "12", "c: \"num_hidden_layers\" is \"12\", expected an integer"},
            {"num_key_value_heads", 2.5, "c: \"num_key_value_heads\" is 2.5, expected an integer"},
            {"head_dim", 1e10, "c: \"head_dim\" is 10000000000, beyond the integer range this tool reads (±2147483647)"},
            {"max_position_embeddings", 2048.5, "c: \"max_position_embeddings\" is 2048.5, expected an integer"},
            {"bos_token_id", 1.5, "c: \"bos_token_id\" is 1.5, expected an integer"},
            {"eos_token_id", List.of(2, 2.5), "c: eos_token_id entry is 2.5, expected an integer"},
            {"intermediate_size", List.of(24, 24.5), "c: intermediate size 1 is 24.5, expected an integer"},
        };
        for (Object[] c : cases) {
            Map<String, Object> json = TinyModels.config("LlamaForCausalLM");
            json.put((String) c[0], c[1]);
            assertEquals(c[2], assertThrows(ShrinkException.class, () -> ModelConfig.parse(json, "c")).getMessage(), c[0] + " " + c[1]);
        }
        Map<String, Object> whole = TinyModels.config("LlamaForCausalLM");
        whole.put("num_hidden_layers", 2.0); // an integral double is that integer
        assertEquals(2, ModelConfig.parse(whole, "c").numLayers());
    }

    @Test
    void unsupportedInputsGiveOneClearMessage() {
        Map<String, Object> gpt = TinyModels.config("GPT2LMHeadModel");
        ShrinkException e = assertThrows(ShrinkException.class, () -> ModelConfig.parse(gpt, "x/config.json"));
        assertEquals("x/config.json: unsupported architecture GPT2LMHeadModel; supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM",
                e.getMessage());
        Map<String, Object> yarn = TinyModels.config("LlamaForCausalLM");
        yarn.put("rope_scaling", Map.of("rope_type", "yarn", "factor", 4.0));
        assertTrue(assertThrows(ShrinkException.class, () -> ModelConfig.parse(yarn, "c")).getMessage().contains("unsupported rope_scaling type yarn"));
        Map<String, Object> noHidden = TinyModels.config("LlamaForCausalLM");
        noHidden.remove("hidden_size");
        assertTrue(assertThrows(ShrinkException.class, () -> ModelConfig.parse(noHidden, "c")).getMessage().contains("\"hidden_size\""));
        Map<String, Object> gptq = TinyModels.config("LlamaForCausalLM");
        gptq.put("quantization_config", Map.of("quant_method", "gptq", "bits", 4));
        assertEquals("c: quantization_config.quant_method gptq is another tool's quantization; shrink4j reads dense checkpoints"
                + " and its own (quant_method shrink4j)", assertThrows(ShrinkException.class, () -> ModelConfig.parse(gptq, "c")).getMessage());
        ShrinkException missing = assertThrows(ShrinkException.class, () -> ModelConfig.load(Path.of("/nonexistent-model")));
        assertTrue(missing.getMessage().contains("no config.json in /nonexistent-model"), missing.getMessage());
    }

    @Test
    void missingTensorsAndWrongShapesAreNamed() {
        ModelConfig c = ModelConfig.parse(TinyModels.config("LlamaForCausalLM"), "t");
        try (Arena arena = Arena.ofShared()) {
            WeightSource full = Synthetic.inMemory(c, DType.F32, 0.1, 1, arena);
            WeightSource missing = filtered(full, "model.layers.1.mlp.up_proj.weight", null);
            ShrinkException e = assertThrows(ShrinkException.class, () -> LlamaModel.of(c, missing));
            assertTrue(e.getMessage().contains("model.layers.1.mlp.up_proj.weight"), e.getMessage());
            Tensor wrong = Tensor.allocate(arena, DType.F32, dev.shrink4j.tensors.Shape.of(24, 15));
            WeightSource misshaped = filtered(full, "model.layers.0.mlp.gate_proj.weight", wrong);
            ShrinkException s = assertThrows(ShrinkException.class, () -> LlamaModel.of(c, misshaped));
            assertEquals("tensor model.layers.0.mlp.gate_proj.weight in the weights has shape [24, 15], expected [24, 16] from config.json", s.getMessage());
        }
    }

    /** {@code full} without {@code name}, or with {@code name} replaced by {@code replacement}. */
    private static WeightSource filtered(WeightSource full, String name, Tensor replacement) {
        return new WeightSource() {
            @Override
            public Set<String> names() {
                return full.names();
            }

            @Override
            public boolean contains(String n) {
                return n.equals(name) ? replacement != null : full.contains(n);
            }

            @Override
            public Tensor tensor(String n) {
                if (!n.equals(name)) return full.tensor(n);
                if (replacement == null) throw new ShrinkException("tensor " + n + " not found in the test model");
                return replacement;
            }

            @Override
            public Path directory() {
                return null;
            }
        };
    }
}
