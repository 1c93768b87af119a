package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.model.Synthetic;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** RTN of the output head and the embeddings, chunk by chunk, and what a tied table allows. */
class HeadQuantizerTest {
    /** Chunked RTN gives the bytes of RTN over the whole table (rows are independent). */
    @Test
    void chunkedRtnEqualsWholeTableRtn() {
        int n = HeadQuantizer.CHUNK_ROWS * 2 + 37, d = 72; // a ragged last chunk and a ragged last group
        float[] w = new float[n * d];
        Random rnd = new Random(5);
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() * 0.02);
        try (Arena arena = Arena.ofConfined()) {
            for (int bits : HeadOptions.BITS) {
                UniformQuantized whole = UniformQuantized.rtn(arena, w, n, d, bits, 32, true);
                UniformQuantized chunked = HeadQuantizer.rtn((j0, rows, dst) -> System.arraycopy(w, j0 * d, dst, 0, rows * d), n, d, bits, 32, arena);
                assertArrayEquals(whole.qweight().segment().toArray(ValueLayout.JAVA_BYTE), chunked.qweight().segment().toArray(ValueLayout.JAVA_BYTE));
                assertArrayEquals(whole.scales().segment().toArray(ValueLayout.JAVA_BYTE), chunked.scales().segment().toArray(ValueLayout.JAVA_BYTE));
                assertEquals(whole.descriptor(), chunked.descriptor());
            }
        }
    }

    @Test
    void untiedModelsGetTwoTablesTiedOnesOne() {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel untied = model(false, arena);
            Map<String, UniformQuantized> both = HeadQuantizer.quantize(untied, new HeadOptions(8, 4, 32), arena);
            assertEquals(List.of("lm_head", "model.embed_tokens"), List.copyOf(both.keySet()));
            assertEquals(8, both.get("lm_head").bits());
            assertEquals(4, both.get("model.embed_tokens").bits());

            LlamaModel tied = model(true, arena);
            Map<String, UniformQuantized> one = HeadQuantizer.quantize(tied, new HeadOptions(8, 0, 32), arena);
            assertEquals(List.of("model.embed_tokens"), List.copyOf(one.keySet()));
            assertEquals(List.of("model.embed_tokens"), List.copyOf(HeadQuantizer.quantize(tied, new HeadOptions(4, 4, 32), arena).keySet()));
            ShrinkException e = assertThrows(ShrinkException.class, () -> HeadQuantizer.quantize(tied, new HeadOptions(8, 4, 32), arena));
            assertTrue(e.getMessage().startsWith("--head-bits 8 and --quantize-embeddings 4: this model ties"), e.getMessage());
            assertTrue(HeadQuantizer.quantize(tied, HeadOptions.none(), arena).isEmpty());
        }
    }

    @Test
    void unsupportedWidthsNameTheirFlag() {
        assertTrue(assertThrows(ShrinkException.class, () -> new HeadOptions(5, 0, 32)).getMessage().startsWith("--head-bits 5"));
        assertTrue(assertThrows(ShrinkException.class, () -> new HeadOptions(0, 3, 32)).getMessage().startsWith("--quantize-embeddings 3"));
        assertTrue(assertThrows(ShrinkException.class, () -> new HeadOptions(8, 0, 0)).getMessage().startsWith("--head-group-size 0"));
    }

    private static LlamaModel model(boolean tied, Arena arena) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("LlamaForCausalLM"));
        c.put("hidden_size", 64);
        c.put("intermediate_size", 96);
        c.put("num_hidden_layers", 1);
        c.put("num_attention_heads", 4);
        c.put("num_key_value_heads", 2);
        c.put("vocab_size", 300);
        c.put("max_position_embeddings", 64);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("tie_word_embeddings", tied);
        ModelConfig config = ModelConfig.parse(c, "tiny");
        return LlamaModel.of(config, Synthetic.inMemory(config, DType.F32, 0.3, 3, arena));
    }
}
