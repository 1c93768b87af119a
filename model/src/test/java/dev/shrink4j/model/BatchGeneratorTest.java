package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Batched decoding against the one-sequence {@link Generator}, determinism, and the self-calibration rule. */
class BatchGeneratorTest {
    static Arena arena;
    static LlamaModel model;

    @BeforeAll
    static void load() {
        arena = Arena.ofShared();
        model = LlamaModel.load(TestData.demoModel(), arena);
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    /** Greedy: every row of a batch decodes exactly what the KV-cached single-sequence generator does. */
    @Test
    void greedyBatchEqualsTheSingleSequenceGenerator() {
        int length = 60;
        int[] single = new Generator(model).generate(new int[] {model.config().bosTokenId()}, length, Sampler.greedy(), null);
        assertEquals(length, single.length, "the demo's greedy story runs past 60 tokens without EOS");
        int[][] batch = new BatchGenerator(model).generate(3, length, 0, 1, 7, null);
        for (int[] stream : batch) assertArrayEquals(single, stream);
    }

    /** Sampled: the same seed gives the same streams, a stream does not depend on its batch, seeds differ per stream. */
    @Test
    void sampledStreamsAreSeededPerStream() {
        BatchGenerator g = new BatchGenerator(model);
        int[][] a = g.generate(4, 300, 1.0, 0.95, 11, null);
        int[][] b = g.generate(4, 300, 1.0, 0.95, 11, null);
        for (int i = 0; i < 4; i++) assertArrayEquals(a[i], b[i], "stream " + i);
        int[][] two = g.generate(2, 300, 1.0, 0.95, 11, null);
        assertArrayEquals(a[0], two[0]);
        assertArrayEquals(a[1], two[1]);
        assertFalse(Arrays.equals(a[0], a[1]), "streams are seeded apart");
        // 300 tokens of the demo span several stories: EOS starts a new one in the same stream, never emitted.
        for (int[] s : a) {
            assertEquals(300, s.length);
            for (int t : s) assertFalse(model.config().isEos(t));
        }
    }

    @Test
    void progressCountsEveryTokenOnce() {
        List<long[]> calls = new ArrayList<>();
        new BatchGenerator(model).generate(3, 20, 1.0, 0.95, 3, (done, total) -> calls.add(new long[] {done, total}));
        assertEquals(60, calls.get(calls.size() - 1)[0]);
        for (int i = 1; i < calls.size(); i++) assertTrue(calls.get(i)[0] >= calls.get(i - 1)[0]);
    }

    /** Windows are BOS + one stream each; the provenance counts what was generated. */
    @Test
    void selfCalibrationWindowsAreBosAndAStream() {
        Calibration c = Calibration.selfGenerated(model, 5, 64, 2, null);
        assertEquals(5, c.sequences().length);
        int[][] streams = new BatchGenerator(model).generate(5, 63, SelfCalibration.TEMPERATURE, SelfCalibration.TOP_P, 2, null);
        for (int i = 0; i < 5; i++) {
            assertEquals(model.config().bosTokenId(), c.sequences()[i][0]);
            assertArrayEquals(streams[i], Arrays.copyOfRange(c.sequences()[i], 1, 64));
        }
        assertEquals(new Calibration.Record("self", 5, 64, 2, 5 * 63, 5 * 64), c.record());
    }

    /** The documented rule: the demo keeps its default; a 1.1B model gets short sequences within the budget. */
    @Test
    void theSizingRuleKeepsSmallModelsAndShrinksLargeOnes() {
        ModelConfig demo = model.config();
        assertEquals(SelfCalibration.parameters(model), SelfCalibration.parameters(demo), "shapes alone count the same");
        assertEquals(new SelfCalibration.Size(128, 512, false), SelfCalibration.defaults(demo, SelfCalibration.parameters(model), 128, 0));
        long tinyLlama = 1_034_000_000L;
        SelfCalibration.Size big = SelfCalibration.defaults(demo, tinyLlama, 128, 2048);
        assertTrue(big.reduced());
        assertEquals(SelfCalibration.REDUCED_SEQ_LEN, big.seqLen());
        assertEquals(18, big.samples());
        assertTrue(2.0 * tinyLlama * big.samples() * (big.seqLen() - 1) <= SelfCalibration.FLOP_BUDGET);
        // Never below the floor, even for a model the budget cannot afford.
        assertEquals(SelfCalibration.MIN_SAMPLES, SelfCalibration.defaults(demo, 70_000_000_000L, 128, 2048).samples());
    }
}
