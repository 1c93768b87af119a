package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.model.functions.SampleOutput;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Synthetic;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jlama-q4 output loads in jlama 0.8.4 and computes what shrink4j's quantized model computes:
 * GPTQ symmetric int4 in groups of 64 (re-blocked to jlama's 32) on a synthetic Llama with head_dim
 * 64 (jlama cannot run the demo's head_dim 8); greedy continuations agree token for token.
 */
class JlamaQ4OutputTest {
    private static final int STEPS = 8;

    @TempDir Path tmp;

    @Test
    void jlamaGeneratesWhatTheQuantizedModelGenerates() throws Exception {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("architectures", List.of("LlamaForCausalLM"));
        json.put("model_type", "llama");
        json.put("hidden_size", 256);
        json.put("intermediate_size", 384);
        json.put("num_hidden_layers", 2);
        json.put("num_attention_heads", 4); // head_dim 64
        json.put("num_key_value_heads", 2);
        json.put("vocab_size", 512);
        json.put("max_position_embeddings", 128);
        json.put("rms_norm_eps", 1e-5);
        json.put("rope_theta", 10000.0);
        json.put("tie_word_embeddings", false);
        json.put("bos_token_id", 1);
        json.put("eos_token_id", 2);
        json.put("hidden_act", "silu");
        json.put("initializer_range", 0.05);
        Path dense = Synthetic.write(json, DType.F32, 23, tmp.resolve("dense"), 1 << 22, false);
        Files.copy(TestData.demoModel().resolve("tokenizer.json"), dense.resolve("tokenizer.json"));
        Files.copy(TestData.demoModel().resolve("tokenizer_config.json"), dense.resolve("tokenizer_config.json"));
        Path out = tmp.resolve("q4");

        int[] prompt = {1, 403, 407, 261, 378};
        int[] ours;
        int v = 512;
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(dense, arena);
            SplittableRandom r = new SplittableRandom(3);
            int[] stream = new int[4000];
            for (int i = 0; i < stream.length; i++) stream[i] = 3 + r.nextInt(v - 3);
            Calibration calib = Calibration.fromTokens(stream, "random", model.config(), 8, 64, 0);
            QuantizeOptions o = QuantizeOptions.defaults(QuantMethod.GPTQ, 4).withGroupSize(64).withSymmetric(true);
            Quantizer.Result res = new Quantizer(o, arena).run(model, calib, new Quantizer.Listener() {});
            QuantizedCheckpoint.write(dense, res.weights(), OutputFormat.JLAMA_Q4, out, false, Map.of());
            ours = greedy(model, prompt, v);
        }
        AbstractModel jm = ModelSupport.loadModel(out.toFile(), com.github.tjake.jlama.safetensors.DType.F32,
                com.github.tjake.jlama.safetensors.DType.F32);
        try {
            SampleOutput head = (SampleOutput) field("sampleOutput").get(jm);
            KvBufferCache cache = (KvBufferCache) field("kvBufferCache").get(jm);
            int[] seq = java.util.Arrays.copyOf(prompt, prompt.length + STEPS);
            try (KvBufferCache.KvBuffer kv = cache.getEphemeralKvBuffer()) {
                for (int pos = 0; pos < seq.length - 1; pos++) {
                    try (AbstractTensor h = jm.forward(seq[pos], pos, kv, Optional.empty());
                            AbstractTensor normed = head.getOutputLayerNorm().forward(h)) {
                        if (pos < prompt.length - 1) continue;
                        AbstractTensor w = head.getOutputLogitsWeights();
                        int best = 0;
                        double bestLogit = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < v; j++) {
                            double logit = 0;
                            for (int i = 0; i < w.shape().dim(1); i++) logit += (double) normed.get(0, i) * w.get(j, i);
                            if (logit > bestLogit) {
                                bestLogit = logit;
                                best = j;
                            }
                        }
                        seq[pos + 1] = best;
                    }
                }
            }
            assertArrayEquals(ours, seq, "greedy continuation: ours vs jlama on the Q4 file");
        } finally {
            jm.close();
        }
    }

    /** Greedy continuation of the prompt by STEPS tokens, full recompute each step. */
    private static int[] greedy(LlamaModel m, int[] prompt, int v) {
        int[] seq = java.util.Arrays.copyOf(prompt, prompt.length + STEPS);
        for (int n = prompt.length; n < seq.length; n++) {
            float[] logits = m.logits(java.util.Arrays.copyOf(seq, n));
            int best = 0;
            for (int j = 1; j < v; j++) if (logits[(n - 1) * v + j] > logits[(n - 1) * v + best]) best = j;
            seq[n] = best;
        }
        return seq;
    }

    private static Field field(String name) throws NoSuchFieldException {
        Field f = AbstractModel.class.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }
}
