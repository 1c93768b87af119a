package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Golden facts of the embedded stories260K model (../shared/data/README.md). */
class DemoModelTest {
    static final String GOLDEN = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big, red ball. She wanted to play with it, but it was too high";
    static final int[] GOLDEN_IDS = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426};
    /** Full-sequence forward and KV-cached decoding compute the same sums in different orders. */
    static final float FORWARD_VS_DECODE_TOL = 1e-4f;

    static Arena arena;
    static LlamaModel model;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        arena = Arena.ofShared();
        Path dir = TestData.demoModel();
        model = LlamaModel.load(dir, arena);
        tokenizer = Tokenizer.load(dir, model.config());
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    @Test
    void configMatchesTheReadme() {
        ModelConfig c = model.config();
        assertEquals(64, c.hiddenSize());
        assertEquals(5, c.numLayers());
        assertEquals(8, c.numHeads());
        assertEquals(4, c.numKvHeads());
        assertEquals(8, c.headDim());
        assertEquals(172, c.intermediateSize(4));
        assertEquals(true, c.tieWordEmbeddings());
    }

    @Test
    void encodesTheGoldenSentence() {
        assertArrayEquals(GOLDEN_IDS, tokenizer.encode("Once upon a time, there was a little girl named Lily.", true));
        assertEquals("Once upon a time, there was a little girl named Lily.", tokenizer.decode(GOLDEN_IDS));
    }

    @Test
    void byteFallbackRoundTrips() {
        String s = "Zoë saw 3 🐱 — ok";
        int[] ids = tokenizer.encode(s, false);
        assertEquals(s, tokenizer.decode(ids));
    }

    @Test
    void greedyGenerationFromBosIsTheGoldenText() {
        int[] prompt = {tokenizer.bosId()};
        int[] goldenTail = tokenizer.encode(GOLDEN, false);
        int[] out = new Generator(model).generate(prompt, goldenTail.length, Sampler.greedy(), null);
        String text = tokenizer.decode(out);
        assertEquals(GOLDEN, text.substring(0, Math.min(text.length(), GOLDEN.length())));
    }

    @Test
    void fullForwardMatchesCachedDecoding() {
        int[] ids = GOLDEN_IDS;
        float[] full = model.logits(ids);
        int v = model.config().vocabSize();
        // Greedy continuation of the prompt prefix must equal argmax of the full forward's last row.
        int[] prefix = java.util.Arrays.copyOf(ids, 8);
        float[] last = java.util.Arrays.copyOfRange(model.logits(prefix), 7 * v, 8 * v);
        int[] next = new Generator(model).generate(prefix, 1, Sampler.greedy(), null);
        assertEquals(Sampler.argmax(last), next[0]);
        // Rows of the prefix forward agree with the same rows of the longer forward (causality).
        float[] pre = model.logits(prefix);
        for (int i = 0; i < 8 * v; i++) {
            assertEquals(full[i], pre[i], FORWARD_VS_DECODE_TOL * (1 + Math.abs(full[i])), "logit " + i);
        }
    }
}
