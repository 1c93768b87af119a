package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.model.functions.SampleOutput;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * jlama 0.8.4 as an independent oracle: on seeded synthetic F32 checkpoints (head_dim 64, GQA,
 * Qwen2 q/k/v biases) our full-sequence logits equal jlama's token-by-token logits. jlama cannot run
 * head_dim 8 (the demo), hence synthetic models; it reads the demo's Llama tokenizer for both types.
 */
class JlamaOracleTest {
    /** |ours − jlama| ≤ TOL·(1 + |logit|). */
    static final double TOL = 1e-4;

    @TempDir Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2"})
    void logitsMatchJlama(String type) throws Exception {
        Map<String, Object> json = TinyModels.config(type.equals("qwen2") ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
        json.put("model_type", type);
        json.put("hidden_size", 256);
        json.put("intermediate_size", 384);
        json.put("num_attention_heads", 4); // head_dim 64
        json.put("num_key_value_heads", 2);
        json.put("vocab_size", 512);
        json.put("max_position_embeddings", 128);
        json.put("hidden_act", "silu");
        json.put("initializer_range", 0.05);
        Path dir = Synthetic.write(json, DType.F32, 17, tmp.resolve(type), 1 << 20, false);
        Files.copy(TestData.demoModel().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.copy(TestData.demoModel().resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        int[] tokens = TinyModels.tokens(12, 512, 5);
        tokens[0] = 1;

        float[] ours;
        int v;
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(dir, arena);
            assertTrue(model.config().attentionBias() == type.equals("qwen2"));
            ours = model.logits(tokens);
            v = model.config().vocabSize();
        }
        AbstractModel jm = ModelSupport.loadModel(dir.toFile(), com.github.tjake.jlama.safetensors.DType.F32,
                com.github.tjake.jlama.safetensors.DType.F32);
        try {
            SampleOutput head = (SampleOutput) field(AbstractModel.class, "sampleOutput").get(jm);
            KvBufferCache cache = (KvBufferCache) field(AbstractModel.class, "kvBufferCache").get(jm);
            try (KvBufferCache.KvBuffer kv = cache.getEphemeralKvBuffer()) {
                for (int pos = 0; pos < tokens.length; pos++) {
                    try (AbstractTensor out = jm.forward(tokens[pos], pos, kv, Optional.empty());
                            AbstractTensor normed = head.getOutputLayerNorm().forward(out)) {
                        AbstractTensor w = head.getOutputLogitsWeights(); // (vocab, hidden)
                        int d = (int) w.shape().dim(1);
                        for (int j = 0; j < v; j++) {
                            double logit = 0;
                            for (int i = 0; i < d; i++) logit += (double) normed.get(0, i) * w.get(j, i);
                            float mine = ours[pos * v + j];
                            assertEquals(logit, mine, TOL * (1 + Math.abs(logit)), type + " position " + pos + " token " + j);
                        }
                    }
                }
            }
        } finally {
            jm.close();
        }
    }

    private static Field field(Class<?> c, String name) throws NoSuchFieldException {
        Field f = c.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }
}
