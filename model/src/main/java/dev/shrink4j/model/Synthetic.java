package dev.shrink4j.model;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.io.CheckpointWriter;
import dev.shrink4j.tensors.io.Json;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Random-weight checkpoints with the shapes of real models, for benchmarks, scale tests and oracle
 * comparisons. Linear and embedding weights are N(0, σ²) with σ = {@code initializer_range} (0.02
 * as in Hugging Face's init), biases N(0, σ²), norm weights 1. Every tensor is generated from its
 * own seed (seed, name, chunk), so the values do not depend on thread count or tensor order.
 */
public final class Synthetic {
    /** Elements generated per parallel chunk. */
    private static final int CHUNK = 1 << 20;

    private Synthetic() {}

    /** Preset names accepted by {@link #preset}. */
    public static final List<String> PRESETS = List.of("tinyllama-1.1b", "llama-2-7b", "llama-3.2-1b", "mistral-7b", "qwen2.5-0.5b", "qwen2.5-7b");

    /** The config.json of a preset architecture. */
    public static Map<String, Object> preset(String name) {
        Map<String, Object> c = new LinkedHashMap<>();
        switch (name) {
            case "tinyllama-1.1b" -> llama(c, 2048, 5632, 22, 32, 4, 32000, 2048, 10000, 1e-5, false);
            case "llama-2-7b" -> llama(c, 4096, 11008, 32, 32, 32, 32000, 4096, 10000, 1e-5, false);
            case "llama-3.2-1b" -> {
                llama(c, 2048, 8192, 16, 32, 8, 128256, 131072, 500000, 1e-5, true);
                c.put("head_dim", 64);
                c.put("bos_token_id", 128000);
                c.put("eos_token_id", 128001);
                Map<String, Object> rs = new LinkedHashMap<>();
                rs.put("rope_type", "llama3");
                rs.put("factor", 32.0);
                rs.put("low_freq_factor", 1.0);
                rs.put("high_freq_factor", 4.0);
                rs.put("original_max_position_embeddings", 8192);
                c.put("rope_scaling", rs);
            }
            case "mistral-7b" -> {
                llama(c, 4096, 14336, 32, 32, 8, 32000, 32768, 1000000, 1e-5, false);
                c.put("architectures", List.of("MistralForCausalLM"));
                c.put("model_type", "mistral");
                c.put("sliding_window", null);
            }
            case "qwen2.5-0.5b" -> qwen(c, 896, 4864, 24, 14, 2, 151936, 32768, true);
            case "qwen2.5-7b" -> qwen(c, 3584, 18944, 28, 28, 4, 152064, 32768, false);
            default -> throw new ShrinkException("unknown preset " + name + "; known: " + String.join(", ", PRESETS));
        }
        return c;
    }

    private static void llama(Map<String, Object> c, int hidden, int inter, int layers, int heads, int kv, int vocab, int ctx, double theta,
                              double eps, boolean tied) {
        c.put("architectures", List.of("LlamaForCausalLM"));
        c.put("model_type", "llama");
        c.put("hidden_size", hidden);
        c.put("intermediate_size", inter);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kv);
        c.put("vocab_size", vocab);
        c.put("max_position_embeddings", ctx);
        c.put("rope_theta", theta);
        c.put("rms_norm_eps", eps);
        c.put("tie_word_embeddings", tied);
        c.put("hidden_act", "silu");
        c.put("initializer_range", 0.02);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        c.put("torch_dtype", "bfloat16");
    }

    private static void qwen(Map<String, Object> c, int hidden, int inter, int layers, int heads, int kv, int vocab, int ctx, boolean tied) {
        llama(c, hidden, inter, layers, heads, kv, vocab, ctx, 1000000, 1e-6, tied);
        c.put("architectures", List.of("Qwen2ForCausalLM"));
        c.put("model_type", "qwen2");
        c.put("bos_token_id", 151643);
        c.put("eos_token_id", 151645);
    }

    /** Tensor names and shapes of a model, in checkpoint order. */
    public static Map<String, long[]> tensorShapes(ModelConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        int d = c.hiddenSize();
        m.put("model.embed_tokens.weight", new long[] {c.vocabSize(), d});
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            if (c.hasAttention(l)) {
                m.put(p + "input_layernorm.weight", new long[] {d});
                m.put(Proj.Q.weightName(l), new long[] {c.qDim(), d});
                m.put(Proj.K.weightName(l), new long[] {c.kvDim(), d});
                m.put(Proj.V.weightName(l), new long[] {c.kvDim(), d});
                if (c.attentionBias()) {
                    m.put(Proj.Q.module(l) + ".bias", new long[] {c.qDim()});
                    m.put(Proj.K.module(l) + ".bias", new long[] {c.kvDim()});
                    m.put(Proj.V.module(l) + ".bias", new long[] {c.kvDim()});
                }
                m.put(Proj.O.weightName(l), new long[] {d, c.qDim()});
                if (c.outputBias()) m.put(Proj.O.module(l) + ".bias", new long[] {d});
            }
            int f = c.intermediateSize(l);
            m.put(p + "post_attention_layernorm.weight", new long[] {d});
            m.put(Proj.GATE.weightName(l), new long[] {f, d});
            m.put(Proj.UP.weightName(l), new long[] {f, d});
            m.put(Proj.DOWN.weightName(l), new long[] {d, f});
        }
        m.put("model.norm.weight", new long[] {d});
        if (!c.tieWordEmbeddings()) m.put("lm_head.weight", new long[] {c.vocabSize(), d});
        return m;
    }

    /** One tensor's values: norms 1, everything else N(0, σ²) from (seed, name). */
    public static Tensor generate(String name, long[] shape, DType dtype, double sigma, long seed, Arena arena) {
        Tensor t = Tensor.allocate(arena, dtype, Shape.of(shape));
        long n = t.numel();
        if (name.endsWith("norm.weight")) {
            float[] ones = new float[(int) Math.min(n, CHUNK)];
            java.util.Arrays.fill(ones, 1f);
            for (long o = 0; o < n; o += ones.length) t.writeFloats(o, ones, 0, (int) Math.min(ones.length, n - o));
            return t;
        }
        long base = seed * 0x9E3779B97F4A7C15L ^ name.hashCode();
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        // Chunks are drawn in parallel on the heap and written by this thread (the arena may be confined).
        for (int c0 = 0; c0 < chunks; c0 += 16) {
            int first = c0;
            float[][] bufs = new float[Math.min(16, chunks - c0)][];
            IntStream.range(0, bufs.length).parallel().forEach(k -> {
                long ch = first + k;
                SplittableRandom r = new SplittableRandom(base + 0xBF58476D1CE4E5B9L * (ch + 1));
                float[] buf = new float[(int) Math.min(CHUNK, n - ch * CHUNK)];
                for (int i = 0; i < buf.length; i++) buf[i] = (float) (sigma * r.nextGaussian());
                bufs[k] = buf;
            });
            for (int k = 0; k < bufs.length; k++) t.writeFloats((long) (first + k) * CHUNK, bufs[k], 0, bufs[k].length);
        }
        return t;
    }

    /** An in-memory random model (tests): tensors allocated in {@code arena}. */
    public static WeightSource inMemory(ModelConfig c, DType dtype, double sigma, long seed, Arena arena) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensorShapes(c).forEach((name, shape) -> tensors.put(name, generate(name, shape, dtype, sigma, seed, arena)));
        return WeightSource.of(tensors, "the in-memory model");
    }

    /**
     * Writes a random checkpoint to {@code out} (atomic, sharded at {@code maxShardBytes}): config.json
     * as given (with {@code torch_dtype} set) and every tensor generated one at a time, so memory stays
     * one tensor. Returns the committed directory.
     */
    public static Path write(Map<String, Object> configJson, DType dtype, long seed, Path out, long maxShardBytes, boolean force) {
        ModelConfig c = ModelConfig.parse(configJson, "synthetic config");
        double sigma = JsonFields.number(configJson, "initializer_range", 0.02);
        Map<String, Object> json = new LinkedHashMap<>(configJson);
        json.put("torch_dtype", switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
        });
        CheckpointWriter.Options opts = CheckpointWriter.Options.defaults().withMaxShardBytes(maxShardBytes).withForce(force);
        try (CheckpointWriter w = CheckpointWriter.create(out, opts)) {
            for (Map.Entry<String, long[]> e : tensorShapes(c).entrySet()) {
                try (Arena arena = Arena.ofConfined()) {
                    w.add(e.getKey(), generate(e.getKey(), e.getValue(), dtype, sigma, seed, arena));
                }
            }
            w.writeFile("config.json", Json.write(json, 2) + "\n");
            return w.commit();
        }
    }
}
