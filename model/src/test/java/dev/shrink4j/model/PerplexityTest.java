package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PerplexityTest {
    /** Uniform loss over the demo's 512 tokens. */
    static final double UNIFORM_NLL = Math.log(512);
    static final double NLL_TOL = 1e-9;

    static Arena arena;
    static LlamaModel model;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        arena = Arena.ofShared();
        model = LlamaModel.load(TestData.demoModel(), arena);
        tokenizer = Tokenizer.load(TestData.demoModel(), model.config());
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    @Test
    void tinyStoriesAtSeqLen256IsFarBelowUniform() throws IOException {
        String text = Files.readString(TestData.sharedFile("tinystories-valid.txt"));
        int[] stream = tokenizer.encode(text, false);
        // The first 20 windows keep the test quick; docs/model.md states the whole-file figure.
        Perplexity.Result r = Perplexity.evaluate(model, stream, 256, 20, null);
        assertEquals(20, r.windows());
        assertTrue(Perplexity.windowCount(stream.length, 256) > 1500);
        assertEquals((long) r.windows() * 255, r.tokens());
        assertTrue(r.nll() < UNIFORM_NLL / 3, "nll " + r.nll());
        assertEquals(Math.exp(r.nll()), r.ppl(), 1e-12);
        assertTrue(Double.isNaN(r.kl()));
    }

    @Test
    void nllIsTheMeanOfIndependentWindowsWithBos() {
        int[] stream = tokenizer.encode("Once upon a time, there was a little girl named Lily. She loved to play outside.", false);
        int T = 6;
        Perplexity.Result r = Perplexity.evaluate(model, stream, T, 0, null);
        int v = model.config().vocabSize();
        double sum = 0;
        for (int w = 0; w < r.windows(); w++) {
            int[] in = new int[T];
            in[0] = 1;
            System.arraycopy(stream, w * (T - 1), in, 1, T - 1);
            float[] logits = model.logits(in);
            for (int p = 0; p < T - 1; p++) sum += Perplexity.logSumExp(logits, p * v, v) - logits[p * v + in[p + 1]];
        }
        assertEquals(sum / (r.windows() * (T - 1)), r.nll(), NLL_TOL);
        Perplexity.Result two = Perplexity.evaluate(model, stream, T, 2, null);
        assertEquals(2, two.windows());
    }

    @Test
    void klAgainstItselfIsZero() {
        int[] stream = tokenizer.encode("The cat sat on the mat. It was a sunny day and the cat was happy.", false);
        Perplexity.Result r = Perplexity.evaluate(model, stream, 8, 0, model);
        assertEquals(0.0, r.kl(), 1e-9);
    }

    @Test
    void badRequestsGiveOneClearMessage() {
        int[] stream = tokenizer.encode("Once upon a time.", false);
        ShrinkException tooLong = assertThrows(ShrinkException.class, () -> Perplexity.evaluate(model, stream, 1024, 0, null));
        assertTrue(tooLong.getMessage().contains("exceeds the model's context of 512"), tooLong.getMessage());
        ShrinkException tooShort = assertThrows(ShrinkException.class, () -> Perplexity.evaluate(model, stream, 256, 0, null));
        assertTrue(tooShort.getMessage().contains("fewer than one window"), tooShort.getMessage());
    }
}
