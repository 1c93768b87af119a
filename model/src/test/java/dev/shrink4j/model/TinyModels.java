package dev.shrink4j.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small seeded configurations for tests. */
final class TinyModels {
    private TinyModels() {}

    /** A tiny config: hidden 16, 2 layers, 4 heads / 2 KV heads of 4, FFN 24, vocab 40. */
    static Map<String, Object> config(String architecture) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of(architecture));
        c.put("hidden_size", 16);
        c.put("intermediate_size", 24);
        c.put("num_hidden_layers", 2);
        c.put("num_attention_heads", 4);
        c.put("num_key_value_heads", 2);
        c.put("vocab_size", 40);
        c.put("max_position_embeddings", 64);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("tie_word_embeddings", false);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        return c;
    }

    static int[] tokens(int n, int vocab, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }
}
