package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A compressed output head and a compressed embedding table (shrink4j.tensors entries {@code lm_head},
 * {@code model.embed_tokens}) against a dense twin holding the same tables dequantized to F32.
 */
class CompressedHeadTest {
    /** The format's kernels and the dense GEMM sum the same products in different orders. */
    static final float LOGIT_TOL = 1e-4f;

    @Test
    void compressedHeadAndEmbeddingGiveTheLogitsOfTheirDequantizedTwin() {
        Map<String, Object> json = TinyModels.config("LlamaForCausalLM");
        ModelConfig dense = ModelConfig.parse(json, "tiny");
        try (Arena arena = Arena.ofShared()) {
            WeightSource base = Synthetic.inMemory(dense, DType.F32, 0.3, 11, arena);
            UniformQuantized head = quantized(base, "lm_head", 8, arena);
            UniformQuantized emb = quantized(base, "model.embed_tokens", 4, arena);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String n : base.names()) if (!n.equals("lm_head.weight") && !n.equals("model.embed_tokens.weight")) tensors.put(n, base.tensor(n));
            tensors.putAll(head.toTensors("lm_head"));
            tensors.putAll(emb.toTensors("model.embed_tokens"));
            Map<String, Object> cjson = new LinkedHashMap<>(json);
            cjson.put("shrink4j", Map.of("tensors", Map.of("lm_head", head.descriptor(), "model.embed_tokens", emb.descriptor())));
            LlamaModel compressed = LlamaModel.of(ModelConfig.parse(cjson, "tiny-q"), WeightSource.of(tensors, "tiny-q"));
            assertTrue(compressed.lmHead() instanceof CompressedLinear);
            assertNull(compressed.embedding(), "the embedding table is not widened at load");

            Map<String, Tensor> twinTensors = new LinkedHashMap<>();
            for (String n : base.names()) twinTensors.put(n, base.tensor(n));
            twinTensors.put("lm_head.weight", dequantized(head, arena));
            twinTensors.put("model.embed_tokens.weight", dequantized(emb, arena));
            LlamaModel twin = LlamaModel.of(dense, WeightSource.of(twinTensors, "twin"));

            // Embedding rows: the decoded row is the dequantized reference row, bit for bit.
            int d = dense.hiddenSize();
            int[] ids = TinyModels.tokens(9, dense.vocabSize(), 3);
            assertArrayEquals(twin.embed(ids), compressed.embed(ids));

            // Prefill (a batch of rows through the format's matmul) and one decode row (its matvec).
            int[] tokens = TinyModels.tokens(21, dense.vocabSize(), 5);
            assertClose(twin.logits(tokens), compressed.logits(tokens));
            float[] x = twin.hidden(tokens, 1);
            assertClose(twin.logits(x, 20, 21), compressed.logits(x, 20, 21));
            assertEquals(new Backprop(twin).loss(tokens, 1), new Backprop(compressed).loss(tokens, 1), 1e-4);
            assertEquals(d, compressed.lmHead().inFeatures());
        }
    }

    /** Tied embeddings: the one compressed table is the embedding and the head (same weight object, no dense copy). */
    @Test
    void aTiedCompressedTableServesBothRoles() {
        Map<String, Object> json = TinyModels.config("LlamaForCausalLM");
        json.put("tie_word_embeddings", true);
        ModelConfig dense = ModelConfig.parse(json, "tiny-tied");
        try (Arena arena = Arena.ofShared()) {
            WeightSource base = Synthetic.inMemory(dense, DType.F32, 0.3, 13, arena);
            UniformQuantized emb = quantized(base, "model.embed_tokens", 8, arena);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String n : base.names()) if (!n.equals("model.embed_tokens.weight")) tensors.put(n, base.tensor(n));
            tensors.putAll(emb.toTensors("model.embed_tokens"));
            Map<String, Object> cjson = new LinkedHashMap<>(json);
            cjson.put("shrink4j", Map.of("tensors", Map.of("model.embed_tokens", emb.descriptor())));
            LlamaModel compressed = LlamaModel.of(ModelConfig.parse(cjson, "tiny-tied-q"), WeightSource.of(tensors, "tiny-tied-q"));
            assertTrue(compressed.headTied());
            assertSame(compressed.embeddingCompressed(), ((CompressedLinear) compressed.lmHead()).compressed());

            Map<String, Tensor> twinTensors = new LinkedHashMap<>();
            for (String n : base.names()) twinTensors.put(n, base.tensor(n));
            twinTensors.put("model.embed_tokens.weight", dequantized(emb, arena));
            LlamaModel twin = LlamaModel.of(dense, WeightSource.of(twinTensors, "twin"));
            int[] tokens = TinyModels.tokens(17, dense.vocabSize(), 7);
            assertClose(twin.logits(tokens), compressed.logits(tokens));
        }
    }

    private static UniformQuantized quantized(WeightSource base, String module, int bits, Arena arena) {
        Tensor w = base.tensor(module + ".weight");
        return UniformQuantized.rtn(arena, w.toFloatArray(), (int) w.shape().dim(0), (int) w.shape().dim(1), bits, 8, true);
    }

    private static Tensor dequantized(UniformQuantized q, Arena arena) {
        Tensor t = Tensor.allocate(arena, DType.F32, Shape.of(q.dOut(), q.dIn()));
        float[] row = new float[q.dIn()];
        for (int j = 0; j < q.dOut(); j++) {
            q.dequantizeRow(j, row, 0);
            t.writeFloats((long) j * q.dIn(), row, 0, q.dIn());
        }
        return t;
    }

    private static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], actual[i], LOGIT_TOL * (1 + Math.abs(expected[i])), "logit " + i);
    }
}
