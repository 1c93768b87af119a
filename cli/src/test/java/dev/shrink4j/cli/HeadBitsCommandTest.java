package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.CompressedLinear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.gguf.GgufFile;
import dev.shrink4j.tensors.gguf.GgufType;
import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.LlamaCpp;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code quantize --head-bits / --quantize-embeddings} on the demo model (tied embeddings) through the command line. */
class HeadBitsCommandTest {
    /** Same weights, two kernels (GGUF: embedding widened at load, dense head; shrink4j: the uniform kernel). */
    private static final double SAME_WEIGHTS_REL = 1e-6;
    /** llama.cpp quantizes activations to 8 bits for its Q4_0/Q8_0 dot products (GgufCommandsTest). */
    private static final double ACTIVATION_Q8_REL = 5e-3;
    private static final int SEQ_LEN = 128;
    private static final int WINDOWS = 4;

    @TempDir Path dir;

    @Test void tiedHeadQuantizedOnceAndReadByEvalGenerateInspectAndTheLibrary() throws IOException {
        Path out = dir.resolve("q4h8"), recipe = dir.resolve("r.yaml");
        CliRunner r = CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--sym", "--group-size", "32", "--head-bits", "8",
                "--no-eval", "--quiet", "--save-recipe", recipe.toString(), TestData.demoModel().toString(), out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("35 linears + tied head/embeddings int8"), r.out());
        assertTrue(Files.readString(recipe).contains("head_bits: 8"), Files.readString(recipe));
        Map<?, ?> sh = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(out.resolve("config.json")))).get("shrink4j");
        Map<?, ?> emb = (Map<?, ?>) ((Map<?, ?>) sh.get("tensors")).get("model.embed_tokens");
        assertEquals(8, ((Number) emb.get("bits")).intValue());
        assertFalse(((Map<?, ?>) sh.get("tensors")).containsKey("lm_head"), "a tied table is stored once");
        Map<?, ?> head = (Map<?, ?>) ((Map<?, ?>) sh.get("provenance")).get("head");
        assertEquals(8, ((Number) head.get("head_bits")).intValue());
        try (Arena a = Arena.ofShared()) {
            LlamaModel m = LlamaModel.load(out, a);
            assertNull(m.embedding());
            assertTrue(m.lmHead() instanceof CompressedLinear);
        }
        CliRunner eval = CliRunner.run("eval", "--model", out.toString(), "--text", TestData.sharedFile("tinyshakespeare.txt").toString(), "--max-windows", "2");
        assertEquals(0, eval.status(), eval.err());
        CliRunner gen = CliRunner.run("generate", "--model", out.toString(), "--max-tokens", "8", "--prompt", "Once upon a time");
        assertEquals(0, gen.status(), gen.err());
        assertTrue(gen.out().startsWith("Once upon a time"), gen.out());
        CliRunner inspect = CliRunner.run("inspect", out.toString());
        assertEquals(0, inspect.status(), inspect.err());
        assertTrue(inspect.out().contains("model.embed_tokens"), inspect.out());

        // Quantized again without the flags: the input's table travels as it is (shrink4j) or dequantized (dense).
        Path again = dir.resolve("again"), dense = dir.resolve("dense");
        String[] requant = {"quantize", "--method", "rtn", "--bits", "8", "--sym", "--group-size", "32", "--no-eval", "--quiet"};
        assertEquals(0, CliRunner.run(concat(requant, out.toString(), again.toString())).status());
        assertEquals(0, CliRunner.run(concat(requant, "--format", "dense", out.toString(), dense.toString())).status());
        try (Arena a = Arena.ofShared()) {
            LlamaModel kept = LlamaModel.load(again, a), widened = LlamaModel.load(dense, a);
            assertNull(kept.embedding());
            assertEquals(8, ((dev.shrink4j.tensors.formats.UniformQuantized) kept.embeddingCompressed()).bits());
            float[] row = new float[kept.config().hiddenSize()], denseRow = new float[row.length];
            kept.embeddingRow(7, row, 0);
            widened.embeddingRow(7, denseRow, 0);
            org.junit.jupiter.api.Assertions.assertArrayEquals(row, denseRow);
        }
    }

    /** int8 sym g32 is Q8_0: the tied table is token_embd, which llama.cpp reads as embedding and head alike. */
    @Test void ggufExportWritesTheTiedTableAsQ8_0BlocksThatBothEnginesEvaluateAlike() throws IOException {
        Path q = dir.resolve("q4h8.gguf"), ours = dir.resolve("q4h8");
        String[] common = {"quantize", "--method", "rtn", "--bits", "4", "--sym", "--group-size", "32", "--head-bits", "8", "--no-eval", "--quiet"};
        assertEquals(0, CliRunner.run(concat(common, "--format", "gguf", TestData.demoModel().toString(), q.toString())).status());
        assertEquals(0, CliRunner.run(concat(common, TestData.demoModel().toString(), ours.toString())).status());
        try (Arena a = Arena.ofConfined()) {
            GgufFile g = GgufFile.open(q, a);
            assertEquals(GgufType.Q8_0, g.entry("token_embd.weight").type());
            assertEquals(GgufType.Q4_0, g.entry("blk.0.attn_q.weight").type());
        }
        String text = Files.readString(TestData.sharedFile("tinystories-valid.txt")).substring(0, 8000);
        double viaGguf, viaShrink4j;
        int[] stream;
        try (Arena a = Arena.ofShared()) {
            LlamaModel m = LlamaModel.load(ours, a);
            stream = Tokenizer.load(TestData.demoModel(), m.config()).encode(text, false);
            viaShrink4j = Perplexity.evaluate(m, stream, SEQ_LEN, WINDOWS, null).nll();
            viaGguf = Perplexity.evaluate(LlamaModel.load(q, a), stream, SEQ_LEN, WINDOWS, null).nll();
        }
        assertEquals(viaShrink4j, viaGguf, SAME_WEIGHTS_REL * viaShrink4j, "the GGUF holds our quantized table");
        try (LlamaCpp llama = new LlamaCpp(q, SEQ_LEN, 1)) {
            double theirs = nll(llama, stream);
            assertEquals(viaGguf, theirs, ACTIVATION_Q8_REL * viaGguf, "shrink4j " + viaGguf + " vs llama.cpp " + theirs);
        }
    }

    @Test void badHeadSettingsAreOneLineAndWriteNothing() {
        Path out = dir.resolve("none");
        String in = TestData.demoModel().toString();
        CliRunner five = CliRunner.run("quantize", "--method", "rtn", "--head-bits", "5", in, out.toString());
        assertEquals(2, five.status());
        assertTrue(five.err().contains("--head-bits 5: not supported (expected one of 4, 8)"), five.err());
        assertEquals(1, five.err().strip().lines().count(), five.err());
        CliRunner jlama = CliRunner.run("quantize", "--method", "rtn", "--head-bits", "8", "--format", "jlama-q4", in, out.toString());
        assertEquals(2, jlama.status());
        assertTrue(jlama.err().contains("--head-bits: --format jlama-q4 keeps the head and embeddings unquantized"), jlama.err());
        CliRunner tied = CliRunner.run("quantize", "--method", "rtn", "--head-bits", "8", "--quantize-embeddings", "4", "--no-eval", "--quiet", in, out.toString());
        assertEquals(1, tied.status());
        assertTrue(tied.err().contains("this model ties its head to its embeddings"), tied.err());
        assertEquals(1, tied.err().strip().lines().count(), tied.err());
        CliRunner group = CliRunner.run("quantize", "--method", "rtn", "--head-group-size", "64", in, out.toString());
        assertEquals(2, group.status());
        assertTrue(group.err().contains("--head-group-size applies with --head-bits or --quantize-embeddings"), group.err());
        assertFalse(Files.exists(out));
    }

    private static String[] concat(String[] a, String... b) {
        return java.util.stream.Stream.concat(java.util.Arrays.stream(a), java.util.Arrays.stream(b)).toArray(String[]::new);
    }

    /** Mean NLL of llama.cpp over the BOS-prefixed windows Perplexity.evaluate scores. */
    private static double nll(LlamaCpp llama, int[] stream) {
        double sum = 0;
        int v = llama.vocabSize();
        for (int w = 0; w < WINDOWS; w++) {
            int[] in = new int[SEQ_LEN];
            in[0] = 1;
            System.arraycopy(stream, w * (SEQ_LEN - 1), in, 1, SEQ_LEN - 1);
            float[] lg = llama.logitsAll(in);
            for (int i = 0; i < SEQ_LEN - 1; i++) {
                double max = Double.NEGATIVE_INFINITY, s = 0;
                for (int k = 0; k < v; k++) max = Math.max(max, lg[i * v + k]);
                for (int k = 0; k < v; k++) s += Math.exp(lg[i * v + k] - max);
                sum += max + Math.log(s) - lg[i * v + in[i + 1]];
            }
        }
        return sum / (WINDOWS * (SEQ_LEN - 1));
    }
}
