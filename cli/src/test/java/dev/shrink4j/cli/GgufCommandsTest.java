package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.gguf.GgufFile;
import dev.shrink4j.tensors.gguf.GgufType;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.testing.LlamaCpp;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code convert}, {@code quantize --format gguf} and GGUF inputs through the command line. */
class GgufCommandsTest {
    /** See GgufLlamaCppTest: llama.cpp quantizes activations to 8 bits for Q4_0/Q8_0 dot products. */
    private static final double ACTIVATION_Q8_REL = 5e-3;
    /**
     * Same weights, two kernels: the shrink4j checkpoint multiplies through the uniform kernel (sums per
     * group, then scales), the imported GGUF through the dense one; only the float summation order differs.
     */
    private static final double SAME_WEIGHTS_REL = 1e-6;
    private static final int SEQ_LEN = 128;
    private static final int WINDOWS = 4;

    @TempDir Path dir;

    @Test void convertRoundTripAndBadInputs() throws IOException {
        Path gguf = dir.resolve("demo.gguf");
        CliRunner to = CliRunner.run("convert", TestData.demoModel().toString(), gguf.toString());
        assertEquals(0, to.status(), to.err());
        Path back = dir.resolve("back");
        CliRunner from = CliRunner.run("convert", gguf.toString(), back.toString());
        assertEquals(0, from.status(), from.err());
        try (Arena a = Arena.ofConfined()) {
            Checkpoint in = Checkpoint.open(TestData.demoModel(), a), out = Checkpoint.open(back, a);
            for (String n : in.names()) {
                assertArrayEquals(in.tensor(n).segment().toArray(ValueLayout.JAVA_BYTE), out.tensor(n).segment().toArray(ValueLayout.JAVA_BYTE), n);
            }
        }
        // The golden text's ids survive (the tokenizer travels inside the GGUF).
        String golden = "Once upon a time, there was a little girl named Lily.";
        try (Arena a = Arena.ofConfined()) {
            LlamaModel m = LlamaModel.load(back, a);
            assertArrayEquals(Tokenizer.load(TestData.demoModel(), m.config()).encode(golden, true), Tokenizer.load(back, m.config()).encode(golden, true));
        }
        // Same direction twice, existing OUT: usage errors (exit 2).
        assertEquals(2, CliRunner.run("convert", gguf.toString(), dir.resolve("x.gguf").toString(), "--to", "gguf").status());
        assertEquals(2, CliRunner.run("convert", TestData.demoModel().toString(), gguf.toString()).status());
        // A truncated GGUF: one line naming the file, exit 1, nothing written.
        byte[] bytes = Files.readAllBytes(gguf);
        Path cut = dir.resolve("cut.gguf");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
        Path none = dir.resolve("none");
        CliRunner bad = CliRunner.run("convert", cut.toString(), none.toString());
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains(cut + ": malformed GGUF: tensor \""), bad.err());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
        assertFalse(Files.exists(none));
        CliRunner eval = CliRunner.run("eval", "--model", cut.toString(), "--text", TestData.sharedFile("tinyshakespeare.txt").toString());
        assertEquals(1, eval.status());
        assertTrue(eval.err().contains(cut + ": malformed GGUF"), eval.err());
        assertEquals(1, eval.err().strip().lines().count(), eval.err());
        CliRunner gen = CliRunner.run("generate", "--model", cut.toString(), "--max-tokens", "4");
        assertEquals(1, gen.status());
        assertEquals(1, gen.err().strip().lines().count(), gen.err());
    }

    /** eval and generate read a .gguf in place: the F32 export scores and generates as the HF demo does, and nothing is converted. */
    @Test void evalAndGenerateReadGgufInPlace() {
        Path gguf = dir.resolve("demo.gguf");
        assertEquals(0, CliRunner.run("convert", TestData.demoModel().toString(), gguf.toString()).status());
        String text = TestData.sharedFile("tinyshakespeare.txt").toString();
        CliRunner viaDir = CliRunner.run("eval", "--model", TestData.demoModel().toString(), "--text", text, "--seq-len", "128", "--max-windows", "3", "--quiet");
        CliRunner viaGguf = CliRunner.run("eval", "--model", gguf.toString(), "--text", text, "--seq-len", "128", "--max-windows", "3", "--quiet");
        assertEquals(0, viaGguf.status(), viaGguf.err());
        assertEquals(viaDir.out().lines().filter(l -> l.startsWith("nll")).findFirst().orElseThrow().replaceAll("\\(.*", ""),
                viaGguf.out().lines().filter(l -> l.startsWith("nll")).findFirst().orElseThrow().replaceAll("\\(.*", ""));
        CliRunner genDir = CliRunner.run("generate", "--model", TestData.demoModel().toString(), "--prompt", "Once upon a time", "--max-tokens", "24");
        CliRunner genGguf = CliRunner.run("generate", "--model", gguf.toString(), "--prompt", "Once upon a time", "--max-tokens", "24");
        assertEquals(0, genGguf.status(), genGguf.err());
        assertEquals(genDir.out(), genGguf.out());
        assertFalse(GgufInput.wasConverted(gguf), "read in place, no temporary copy");
    }

    @Test void quantizeToGgufRefusesWhatDoesNotMapExactly() {
        CliRunner r = CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--group-size", "128", "--format", "gguf",
                TestData.demoModel().toString(), dir.resolve("q.gguf").toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--format gguf maps exactly: --bits 4 --sym --group-size 32 (Q4_0)"), r.err());
        CliRunner lut = CliRunner.run("quantize", "--method", "squeezellm", "--format", "gguf", TestData.demoModel().toString(), dir.resolve("q.gguf").toString());
        assertEquals(2, lut.status());
        assertFalse(Files.exists(dir.resolve("q.gguf")));
    }

    /** Our RTN int4 g32 as Q4_0: the same weights in both engines; llama.cpp's NLL agrees up to its activation rounding. */
    @Test void rtnQ4_0ExportLoadsInLlamaCppAndEvaluatesLikeOurCheckpoint() throws IOException {
        Path q = dir.resolve("rtn-q4_0.gguf");
        CliRunner r = CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--sym", "--format", "gguf", "--no-eval", "--quiet",
                TestData.demoModel().toString(), q.toString());
        assertEquals(0, r.status(), r.err());
        Path ours = dir.resolve("rtn-shrink4j");
        assertEquals(0, CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--sym", "--group-size", "32", "--no-eval", "--quiet",
                TestData.demoModel().toString(), ours.toString()).status());
        try (Arena a = Arena.ofConfined()) {
            GgufFile g = GgufFile.open(q, a);
            assertEquals(GgufType.Q4_0, g.entry("blk.0.attn_q.weight").type());
            assertEquals(GgufType.F32, g.entry("blk.0.ffn_down.weight").type()); // d_in 172 is no whole number of blocks
        }
        String text = Files.readString(TestData.sharedFile("tinystories-valid.txt")).substring(0, 8000);
        double viaGguf, viaShrink4j;
        int[] stream;
        try (Arena a = Arena.ofShared()) {
            LlamaModel m = LlamaModel.load(GgufInput.asCheckpointDir("test", q), a);
            stream = Tokenizer.load(TestData.demoModel(), m.config()).encode(text, false);
            viaGguf = Perplexity.evaluate(m, stream, SEQ_LEN, WINDOWS, null).nll();
            viaShrink4j = Perplexity.evaluate(LlamaModel.load(ours, a), stream, SEQ_LEN, WINDOWS, null).nll();
        }
        assertEquals(viaShrink4j, viaGguf, SAME_WEIGHTS_REL * viaShrink4j, "the GGUF holds our quantized weights");
        try (Arena a = Arena.ofShared()) {
            double inPlace = Perplexity.evaluate(LlamaModel.load(q, a), stream, SEQ_LEN, WINDOWS, null).nll();
            assertEquals(viaShrink4j, inPlace, SAME_WEIGHTS_REL * viaShrink4j, "the Q4_0 blocks run in place");
        }
        try (LlamaCpp llama = new LlamaCpp(q, SEQ_LEN, 1)) {
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
            double theirs = sum / (WINDOWS * (SEQ_LEN - 1));
            assertEquals(viaGguf, theirs, ACTIVATION_Q8_REL * viaGguf, "shrink4j " + viaGguf + " vs llama.cpp " + theirs);
        }
        // llama.cpp's own choices for the rest (F16 for ragged linears, Q8_0 embedding): the same size as its Q4_0.
        Path same = dir.resolve("rtn-q4_0-equal-size.gguf");
        dev.shrink4j.model.gguf.LlamaGgufExport.writeQuantized(TestData.demoModel(), ours, same, false, GgufType.F16, GgufType.Q8_0);
        try (Arena a = Arena.ofConfined()) {
            GgufFile g = GgufFile.open(same, a);
            assertEquals(GgufType.Q4_0, g.entry("blk.0.attn_q.weight").type());
            assertEquals(GgufType.F16, g.entry("blk.0.ffn_down.weight").type());
            assertEquals(GgufType.Q8_0, g.entry("token_embd.weight").type());
        }
        try (Arena a = Arena.ofShared(); LlamaCpp llama = new LlamaCpp(same, SEQ_LEN, 1)) {
            double o = Perplexity.evaluate(LlamaModel.load(GgufInput.asCheckpointDir("test", same), a), stream, SEQ_LEN, WINDOWS, null).nll();
            double theirs = nll(llama, stream);
            assertEquals(o, theirs, ACTIVATION_Q8_REL * o, "equal-size file: shrink4j " + o + " vs llama.cpp " + theirs);
        }
    }

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
