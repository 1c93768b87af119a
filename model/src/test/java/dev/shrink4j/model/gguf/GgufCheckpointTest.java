package dev.shrink4j.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.CompressedLinear;
import dev.shrink4j.model.DenseLinear;
import dev.shrink4j.model.Generator;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Proj;
import dev.shrink4j.model.Sampler;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.formats.GgufBlockWeight;
import dev.shrink4j.tensors.gguf.GgufFile;
import dev.shrink4j.tensors.gguf.GgufType;
import dev.shrink4j.tensors.testing.LlamaCpp;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code .gguf} read in place ({@link GgufCheckpoint}) scores and generates like the same file
 * converted to a Hugging Face directory ({@link LlamaGgufImport}, blocks widened to F32): the weights
 * are the same values and the activations F32 on both sides; only the summation order of the block
 * kernels differs from the dense GEMM/matvec.
 */
class GgufCheckpointTest {
    /** Same weights, same F32 activations, different summation order. */
    private static final double SAME_WEIGHTS_REL = 1e-6;
    /** Logits of the same weights, block kernels vs dense GEMM: relative to the largest |logit|. */
    private static final double LOGIT_REL = 1e-5;
    private static final int SEQ_LEN = 128;
    private static final int WINDOWS = 4;
    private static final int GREEDY_TOKENS = 48;

    @TempDir static Path dir;
    static Path f32;
    static int[] stream;

    @BeforeAll static void export() throws IOException {
        f32 = dir.resolve("demo-f32.gguf");
        LlamaGgufExport.write(TestData.demoModel(), f32, false, LlamaGgufExport::sameType);
        String text = Files.readString(TestData.sharedFile("tinystories-valid.txt"));
        text = text.substring(0, Math.min(text.length(), 8000));
        try (Arena a = Arena.ofConfined()) {
            stream = Tokenizer.load(TestData.demoModel(), LlamaModel.load(TestData.demoModel(), a).config()).encode(text, false);
        }
    }

    private static double nll(LlamaModel m) {
        return Perplexity.evaluate(m, stream, SEQ_LEN, WINDOWS, null).nll();
    }

    private static int[] greedy(LlamaModel m) {
        return new Generator(m).generate(new int[] {1}, GREEDY_TOKENS, Sampler.greedy(), t -> {});
    }

    /** The F32 export read in place is the HF demo: mapped views and exact Q/K row copies, dense kernels. */
    @Test void f32GgufIsTheHfCheckpoint() {
        try (Arena a = Arena.ofShared()) {
            LlamaModel hf = LlamaModel.load(TestData.demoModel(), a);
            LlamaModel gguf = LlamaModel.load(f32, a);
            assertEquals(hf.config().hiddenSize(), gguf.config().hiddenSize());
            assertTrue(gguf.weights() instanceof GgufCheckpoint);
            assertInstanceOf(DenseLinear.class, gguf.layer(0).linear(Proj.Q));
            assertEquals(nll(hf), nll(gguf), 0.0, "same F32 weights, same kernels");
            assertArrayEquals(greedy(hf), greedy(gguf));
            assertArrayEquals(Tokenizer.load(TestData.demoModel(), hf.config()).encode("Once upon a time", true),
                    Tokenizer.load(f32, gguf.config()).encode("Once upon a time", true), "the tokenizer travels in the file");
        }
    }

    /**
     * llama.cpp's Q4_0/Q4_1/Q8_0 of the demo: the blocks run in place and score like the converted copy
     * (down_proj, d_in = 172, is no multiple of 32: llama.cpp keeps it as a float type, mapped).
     */
    @Test void llamaCppBlockFilesReadInPlaceScoreLikeTheConvertedCopy() {
        for (LlamaCpp.FileType ft : new LlamaCpp.FileType[] {LlamaCpp.FileType.Q4_0, LlamaCpp.FileType.Q4_1, LlamaCpp.FileType.Q8_0}) {
            Path q = dir.resolve("demo-" + ft + ".gguf");
            LlamaCpp.quantize(f32, q, ft, 1);
            Path hf = LlamaGgufImport.write(q, dir.resolve("demo-" + ft), null, false).dir();
            try (Arena a = Arena.ofShared()) {
                LlamaModel converted = LlamaModel.load(hf, a);
                LlamaModel direct = LlamaModel.load(q, a);
                for (Proj p : new Proj[] {Proj.Q, Proj.K, Proj.V, Proj.O, Proj.GATE, Proj.UP}) {
                    var lin = assertInstanceOf(CompressedLinear.class, direct.layer(0).linear(p), ft + " " + p);
                    assertEquals(GgufType.valueOf(ft.name()), assertInstanceOf(GgufBlockWeight.class, lin.compressed()).type());
                }
                double viaCopy = nll(converted), inPlace = nll(direct);
                assertEquals(viaCopy, inPlace, SAME_WEIGHTS_REL * viaCopy, ft + ": in place " + inPlace + " vs converted " + viaCopy);
                assertArrayEquals(greedy(converted), greedy(direct), ft + " greedy tokens");
                GgufCheckpoint c = (GgufCheckpoint) direct.weights();
                assertTrue(c.typesRead().containsKey(GgufType.valueOf(ft.name())), c.typesRead().toString());
            }
        }
    }

    /**
     * llama.cpp's Q4_K_M and Q5_K_M of a synthetic model with rows of 256: the K-quant projections and
     * the head run in place as {@link GgufBlockWeight}s and give the converted copy's logits up to
     * summation order; nothing is copied at load but the Q/K rows (and a block-typed embedding, widened).
     */
    @Test void kQuantsRunInPlace() {
        Path synth = dev.shrink4j.model.Synthetic.write(synthConfig(), dev.shrink4j.tensors.DType.F32, 7, dir.resolve("synth64"), 1L << 30, false);
        Path synthF32 = dir.resolve("synth64-f32.gguf");
        LlamaGgufExport.write(synth, synthF32, false, LlamaGgufExport::sameType);
        int[] tokens = new int[64];
        java.util.Random r = new java.util.Random(5);
        tokens[0] = 1;
        for (int i = 1; i < tokens.length; i++) tokens[i] = 3 + r.nextInt(253);
        for (LlamaCpp.FileType ft : new LlamaCpp.FileType[] {LlamaCpp.FileType.Q4_K_M, LlamaCpp.FileType.Q5_K_M}) {
            Path q = dir.resolve("synth64-" + ft + ".gguf");
            LlamaCpp.quantize(synthF32, q, ft, 1);
            Path hf = LlamaGgufImport.write(q, dir.resolve("synth64-" + ft), null, false).dir();
            try (Arena a = Arena.ofShared()) {
                LlamaModel direct = LlamaModel.load(q, a);
                GgufCheckpoint c = (GgufCheckpoint) direct.weights();
                GgufType main = ft == LlamaCpp.FileType.Q4_K_M ? GgufType.Q4_K : GgufType.Q5_K;
                assertTrue(c.typesRead().containsKey(main) && c.typesRead().containsKey(GgufType.Q6_K), ft + " " + c.typesRead());
                java.util.Set<GgufType> linearTypes = java.util.EnumSet.noneOf(GgufType.class);
                for (int l = 0; l < direct.config().numLayers(); l++) {
                    for (Proj p : Proj.values()) {
                        var lin = assertInstanceOf(CompressedLinear.class, direct.layer(l).linear(p), ft + " layer " + l + " " + p);
                        linearTypes.add(assertInstanceOf(GgufBlockWeight.class, lin.compressed()).type());
                    }
                }
                assertEquals(java.util.EnumSet.of(main, GgufType.Q6_K), linearTypes, ft + ": projections in place");
                // copied: only the Q/K rows, as they are; a block-typed embedding stays in place (one row decoded per token)
                long expected = 0;
                GgufFile g = GgufFile.open(q, a);
                for (GgufFile.TensorEntry e : g.tensors().values()) {
                    if (e.name().endsWith("attn_q.weight") || e.name().endsWith("attn_k.weight")) expected += e.bytes();
                    if (e.name().equals("token_embd.weight")) {
                        assertTrue(e.type().quantized(), ft + ": llama.cpp quantizes the embedding");
                        assertInstanceOf(GgufBlockWeight.class, direct.embeddingCompressed(), ft + ": embedding in place");
                    }
                }
                assertEquals(expected, c.copiedBytes(), ft + " bytes copied at load");
                float[] viaCopy = LlamaModel.load(hf, a).logits(tokens), inPlace = direct.logits(tokens);
                float max = 0;
                for (float v : viaCopy) max = Math.max(max, Math.abs(v));
                for (int i = 0; i < viaCopy.length; i++) assertEquals(viaCopy[i], inPlace[i], LOGIT_REL * max, ft + " logit " + i);
            }
        }
        // synth writes no tokenizer, so the file carries none we read: one line naming the file
        Path q = dir.resolve("synth64-" + LlamaCpp.FileType.Q4_K_M + ".gguf");
        try (Arena a = Arena.ofShared()) {
            LlamaModel direct = LlamaModel.load(q, a);
            var e = org.junit.jupiter.api.Assertions.assertThrows(dev.shrink4j.tensors.ShrinkException.class, () -> Tokenizer.load(q, direct.config()));
            assertTrue(e.getMessage().startsWith(q + ": no tokenizer in this GGUF file"), e.getMessage());
        }
    }

    private static java.util.Map<String, Object> synthConfig() {
        java.util.Map<String, Object> c = new java.util.LinkedHashMap<>();
        c.put("architectures", java.util.List.of("LlamaForCausalLM"));
        c.put("model_type", "llama");
        c.put("hidden_size", 256L);
        c.put("intermediate_size", 512L);
        c.put("num_hidden_layers", 2L);
        c.put("num_attention_heads", 4L);
        c.put("num_key_value_heads", 2L);
        c.put("head_dim", 64L);
        c.put("vocab_size", 256L);
        c.put("max_position_embeddings", 256L);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("tie_word_embeddings", false);
        c.put("bos_token_id", 1L);
        c.put("eos_token_id", 2L);
        c.put("initializer_range", 0.05);
        return c;
    }
}
