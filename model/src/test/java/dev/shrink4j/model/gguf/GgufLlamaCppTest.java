package dev.shrink4j.model.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Generator;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Sampler;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.gguf.GgufFile;
import dev.shrink4j.tensors.gguf.GgufType;
import dev.shrink4j.tensors.testing.LlamaCpp;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real llama.cpp (libllama through FFM) as the oracle: it reads our GGUF export of the demo and
 * scores the same windows with the same NLL as {@code shrink4j eval}, and generates the same greedy
 * tokens; and what its {@code llama_model_quantize} writes, we read to the same NLL it computes.
 */
class GgufLlamaCppTest {
    /** NLL agreement between the two engines (float32 kernels, different summation orders). */
    private static final double NLL_REL = 1e-4;
    private static final int SEQ_LEN = 128;
    private static final int WINDOWS = 4;
    private static final int GREEDY_TOKENS = 48;
    /**
     * llama.cpp's CPU dot products for Q4_0/Q4_1/Q8_0 weights quantize the activations to Q8_0 (or
     * Q8_1) blocks first; shrink4j multiplies with F32 activations. The NLLs of the same quantized
     * weights therefore differ by that activation rounding, not by the weights (which
     * GgufGgmlReferenceTest shows decode bit for bit like ggml, and the F32 re-export below shows
     * score within NLL_REL).
     */
    private static final double ACTIVATION_Q8_REL = 5e-3;
    /**
     * Our runtime with ggml's activation rounding emulated ({@link GgmlActivations}: Q8_0/Q8_1 for block
     * weights, F16 for F16 weights) against llama.cpp. Not NLL_REL: what is left is not summation order
     * alone. This tiny model's NLL moves by ~1e-3 when a single linear's input is rounded to F16, so
     * any rounding we do not reproduce bit for bit in llama.cpp's matmul path shows at that level (its
     * F16 KV cache is not it: with an F32 cache its NLLs are identical to 16 digits).
     */
    private static final double EMULATED_REL = 1.5e-3;
    /**
     * K-quant dot products quantize activations to Q8_K (one scale per 256); the synthetic model's
     * random weights (std 0.05) amplify that rounding more than the demo does. Measured with the
     * blocks read in place (AMD EPYC, llama.cpp's zen4 CPU variant, 2026-12-03): Q4_K_M 1.9e-4,
     * Q5_K_M 1.1e-5, Q6_K 3.9e-4 relative; the bound leaves room for other CPU variants' kernels.
     */
    private static final double K_QUANT_ACTIVATION_REL = 5e-3;
    /** One thread: ggml's workers spin at barriers, which is slow on a shared 2-core machine. */
    private static final int THREADS = 1;

    @TempDir static Path dir;
    static Path gguf;
    static int[] stream;

    @BeforeAll static void export() throws IOException {
        gguf = dir.resolve("demo-f32.gguf");
        LlamaGgufExport.write(TestData.demoModel(), gguf, false, LlamaGgufExport::sameType);
        String text = Files.readString(TestData.sharedFile("tinystories-valid.txt"));
        text = text.substring(0, Math.min(text.length(), 8000));
        try (Arena a = Arena.ofConfined()) {
            LlamaModel m = LlamaModel.load(TestData.demoModel(), a);
            stream = Tokenizer.load(TestData.demoModel(), m.config()).encode(text, false);
        }
    }

    /** llama.cpp's NLL over the shrink4j eval protocol's windows (BOS + seq_len − 1 tokens each). */
    static double llamaNll(LlamaCpp llama, int bos) {
        double sum = 0;
        long n = 0;
        int v = llama.vocabSize();
        for (int w = 0; w < WINDOWS; w++) {
            int[] input = new int[SEQ_LEN];
            input[0] = bos;
            System.arraycopy(stream, w * (SEQ_LEN - 1), input, 1, SEQ_LEN - 1);
            float[] logits = llama.logitsAll(input);
            for (int i = 0; i < SEQ_LEN - 1; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < v; k++) max = Math.max(max, logits[i * v + k]);
                double s = 0;
                for (int k = 0; k < v; k++) s += Math.exp(logits[i * v + k] - max);
                sum += max + Math.log(s) - logits[i * v + input[i + 1]];
                n++;
            }
        }
        return sum / n;
    }

    static double ourNll(Path checkpoint) {
        try (Arena a = Arena.ofShared()) {
            LlamaModel m = LlamaModel.load(checkpoint, a);
            return Perplexity.evaluate(m, stream, SEQ_LEN, WINDOWS, null).nll();
        }
    }

    @Test void llamaCppScoresOurF32ExportLikeShrink4jEval() {
        double ours = ourNll(TestData.demoModel());
        try (LlamaCpp llama = new LlamaCpp(gguf, SEQ_LEN, THREADS)) {
            double theirs = llamaNll(llama, 1);
            assertEquals(ours, theirs, NLL_REL * ours, "NLL shrink4j " + ours + " vs llama.cpp " + theirs);
        }
    }

    @Test void greedyGenerationFromBosIsTokenIdentical() {
        int[] ours;
        try (Arena a = Arena.ofShared()) {
            LlamaModel m = LlamaModel.load(TestData.demoModel(), a);
            int[] generated = new Generator(m).generate(new int[] {1}, GREEDY_TOKENS, Sampler.greedy(), t -> {});
            ours = new int[generated.length + 1];
            ours[0] = 1;
            System.arraycopy(generated, 0, ours, 1, generated.length);
        }
        try (LlamaCpp llama = new LlamaCpp(gguf, SEQ_LEN, THREADS)) {
            int[] seq = new int[] {1};
            int v = llama.vocabSize();
            while (seq.length < ours.length) {
                float[] logits = llama.logitsAll(seq);
                int best = 0;
                for (int k = 1; k < v; k++) if (logits[(seq.length - 1) * v + k] > logits[(seq.length - 1) * v + best]) best = k;
                seq = Arrays.copyOf(seq, seq.length + 1);
                seq[seq.length - 1] = best;
            }
            assertArrayEquals(ours, seq);
            // the KV-cached path the decode benchmark times: prompt batch, then one token per decode
            assertArrayEquals(Arrays.copyOfRange(ours, 1, ours.length), llama.timedGreedy(new int[] {1}, ours.length - 1).tokens());
        }
    }

    @Test void llamaCppTokenizesTheGoldenTextLikeUs() {
        String golden = "Once upon a time, there was a little girl named Lily. She loved to play outside.";
        try (Arena a = Arena.ofConfined(); LlamaCpp llama = new LlamaCpp(gguf, SEQ_LEN, THREADS)) {
            LlamaModel m = LlamaModel.load(TestData.demoModel(), a);
            int[] ours = Tokenizer.load(TestData.demoModel(), m.config()).encode(golden, true);
            assertArrayEquals(ours, llama.tokenize(golden, true));
        }
    }

    /** llama.cpp quantizes our F32 export; we import its file and score it as llama.cpp does. */
    @Test void weReadWhatLlamaCppQuantizes() {
        for (LlamaCpp.FileType ft : new LlamaCpp.FileType[] {LlamaCpp.FileType.Q4_0, LlamaCpp.FileType.Q4_1, LlamaCpp.FileType.Q8_0}) {
            Path q = dir.resolve("demo-" + ft + ".gguf");
            LlamaCpp.quantize(gguf, q, ft, THREADS);
            try (Arena a = Arena.ofConfined()) {
                GgufFile g = GgufFile.open(q, a);
                assertEquals(GgufType.valueOf(ft.name()), g.entry("blk.0.attn_q.weight").type(), ft + " attn_q");
            }
            Path hf = dir.resolve("demo-" + ft);
            LlamaGgufImport.write(q, hf, null, false);
            double ours = ourNll(hf);
            try (LlamaCpp llama = new LlamaCpp(q, SEQ_LEN, THREADS)) {
                double theirs = llamaNll(llama, 1);
                assertEquals(theirs, ours, ACTIVATION_Q8_REL * theirs, ft + ": shrink4j " + ours + " vs llama.cpp " + theirs);
            }
            // The exact reference: our runtime on the same weights with ggml's activation rounding emulated.
            try (Arena a = Arena.ofShared(); LlamaCpp llama = new LlamaCpp(q, SEQ_LEN, THREADS)) {
                GgufFile g = GgufFile.open(q, a);
                LlamaModel m = LlamaModel.load(hf, a);
                double emulated = 0, theirs = 0;
                for (int w = 0; w < WINDOWS; w++) {
                    int[] input = new int[SEQ_LEN];
                    input[0] = 1;
                    System.arraycopy(stream, w * (SEQ_LEN - 1), input, 1, SEQ_LEN - 1);
                    emulated += nll(GgmlActivations.logits(m, g, input), input, llama.vocabSize());
                    theirs += nll(llama.logitsAll(input), input, llama.vocabSize());
                }
                emulated /= WINDOWS;
                theirs /= WINDOWS;
                // Emulating the rounding halves the gap on the demo (Q4_0 1.9e-3 → 9.6e-4, Q4_1 8.4e-4 → 3.1e-4,
                // Q8_0 3.8e-4 → 1.6e-4 relative) but does not reach NLL_REL: see EMULATED_REL.
                // Q4_1 is left out of "closer": which Q4_1×Q8_1 kernel ggml runs depends on the CPU variant it
                // loads. On an Intel Xeon (skylakex/icelake variants) the emulation halved the gap; on an AMD
                // EPYC with AVX-512 (zen4 variant, 2026-12-03) plain was 1.2e-4 and emulated 1.26e-3 relative
                // away (still within EMULATED_REL); Q4_0 and Q8_0 were closer emulated on both CPUs.
                if (ft != LlamaCpp.FileType.Q4_1)
                    assertTrue(Math.abs(emulated - theirs) < Math.abs(ours - theirs), ft + ": emulated " + emulated + " is not closer to llama.cpp " + theirs + " than plain " + ours);
                assertEquals(theirs, emulated, EMULATED_REL * theirs, ft + " with ggml's activation rounding: shrink4j " + emulated + " vs llama.cpp " + theirs);
            }
            // The imported (dequantized, F32) weights exported again: llama.cpp then computes in F32 too.
            Path f32 = dir.resolve("demo-" + ft + "-as-f32.gguf");
            LlamaGgufExport.write(hf, f32, false, LlamaGgufExport::sameType);
            try (LlamaCpp llama = new LlamaCpp(f32, SEQ_LEN, THREADS)) {
                double theirs = llamaNll(llama, 1);
                assertEquals(ours, theirs, NLL_REL * ours, ft + " as F32: shrink4j " + ours + " vs llama.cpp " + theirs);
            }
        }
    }

    @Test void convertRoundTripIsBitIdentical() throws IOException {
        Path back = dir.resolve("roundtrip");
        LlamaGgufImport.Result r = LlamaGgufImport.write(gguf, back, null, false);
        assertTrue(r.tokenizer());
        try (Arena a = Arena.ofConfined()) {
            var in = dev.shrink4j.tensors.io.Checkpoint.open(TestData.demoModel(), a);
            var out = dev.shrink4j.tensors.io.Checkpoint.open(back, a);
            assertEquals(in.names().stream().sorted().toList(), out.names().stream().sorted().toList());
            for (String n : in.names()) {
                assertEquals(in.tensor(n).dtype(), out.tensor(n).dtype(), n);
                assertArrayEquals(in.tensor(n).segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        out.tensor(n).segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), n);
            }
        }
        assertEquals(Files.readString(TestData.demoModel().resolve("config.json")), Files.readString(back.resolve("config.json")));
        assertEquals(Files.readString(TestData.demoModel().resolve("tokenizer.json")), Files.readString(back.resolve("tokenizer.json")));
    }

    /**
     * A seeded synthetic model with head_dim 64 and rows of multiples of 256: llama.cpp writes Q4_K_M
     * (Q4_K with some Q6_K tensors), Q5_K_M and Q6_K, and we read them in place to llama.cpp's NLL.
     */
    @Test void weReadLlamaCppKQuantsOfASyntheticHeadDim64Model() {
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
        Path synth = dev.shrink4j.model.Synthetic.write(c, dev.shrink4j.tensors.DType.F32, 7, dir.resolve("synth64"), 1L << 30, false);
        Path f32 = dir.resolve("synth64-f32.gguf");
        LlamaGgufExport.write(synth, f32, false, LlamaGgufExport::sameType);
        java.util.Random r = new java.util.Random(5);
        int[] tokens = new int[SEQ_LEN];
        tokens[0] = 1;
        for (int i = 1; i < SEQ_LEN; i++) tokens[i] = 3 + r.nextInt(253);
        try (Arena a = Arena.ofShared(); LlamaCpp llama = new LlamaCpp(f32, SEQ_LEN, THREADS)) {
            double ours = nll(LlamaModel.load(synth, a).logits(tokens), tokens, 256);
            double theirs = nll(llama.logitsAll(tokens), tokens, 256);
            assertEquals(ours, theirs, NLL_REL * ours, "synthetic F32: shrink4j " + ours + " vs llama.cpp " + theirs);
        }
        for (LlamaCpp.FileType ft : new LlamaCpp.FileType[] {LlamaCpp.FileType.Q4_K_M, LlamaCpp.FileType.Q5_K_M, LlamaCpp.FileType.Q6_K}) {
            Path q = dir.resolve("synth64-" + ft + ".gguf");
            LlamaCpp.quantize(f32, q, ft, THREADS);
            java.util.Set<GgufType> types = java.util.EnumSet.noneOf(GgufType.class);
            try (Arena a = Arena.ofConfined()) {
                GgufFile.open(q, a).tensors().values().forEach(e -> types.add(e.type()));
            }
            GgufType main = switch (ft) { case Q4_K_M -> GgufType.Q4_K; case Q5_K_M -> GgufType.Q5_K; default -> GgufType.Q6_K; };
            assertTrue(types.contains(main), ft + " wrote " + types);
            Path hf = dir.resolve("synth64-" + ft);
            LlamaGgufImport.write(q, hf, null, false);
            // the file read in place: K-quant blocks multiplied by our kernels (GgufCheckpointTest shows they are
            // the converted copy's weights); llama.cpp's own kernels round x to Q8_K first
            try (Arena a = Arena.ofShared(); LlamaCpp llama = new LlamaCpp(q, SEQ_LEN, THREADS)) {
                LlamaModel inPlace = LlamaModel.load(q, a);
                var lin = (dev.shrink4j.model.CompressedLinear) inPlace.layer(0).linear(dev.shrink4j.model.Proj.UP);
                assertTrue(((dev.shrink4j.tensors.formats.GgufBlockWeight) lin.compressed()).type().blockSize == 256, ft + " up_proj in place");
                double ours = nll(inPlace.logits(tokens), tokens, 256);
                double theirs = nll(llama.logitsAll(tokens), tokens, 256);
                assertEquals(theirs, ours, K_QUANT_ACTIVATION_REL * theirs, ft + " " + types + ": shrink4j " + ours + " vs llama.cpp " + theirs);
            }
            Path asF32 = dir.resolve("synth64-" + ft + "-as-f32.gguf");
            LlamaGgufExport.write(hf, asF32, false, LlamaGgufExport::sameType);
            try (Arena a = Arena.ofShared(); LlamaCpp llama = new LlamaCpp(asF32, SEQ_LEN, THREADS)) {
                double ours = nll(LlamaModel.load(hf, a).logits(tokens), tokens, 256);
                double theirs = nll(llama.logitsAll(tokens), tokens, 256);
                assertEquals(ours, theirs, NLL_REL * ours, ft + " as F32: shrink4j " + ours + " vs llama.cpp " + theirs);
            }
        }
    }

    /** Mean NLL of tokens[1..] under (n, vocab) logits. */
    private static double nll(float[] logits, int[] tokens, int v) {
        double sum = 0;
        for (int i = 0; i < tokens.length - 1; i++) {
            double max = Double.NEGATIVE_INFINITY, s = 0;
            for (int k = 0; k < v; k++) max = Math.max(max, logits[i * v + k]);
            for (int k = 0; k < v; k++) s += Math.exp(logits[i * v + k] - max);
            sum += max + Math.log(s) - logits[i * v + tokens[i + 1]];
        }
        return sum / (tokens.length - 1);
    }
}
