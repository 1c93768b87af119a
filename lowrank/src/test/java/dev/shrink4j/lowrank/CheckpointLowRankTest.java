package dev.shrink4j.lowrank;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointLowRankTest {
    @TempDir
    Path tmp;

    @Test
    void denseOutputHoldsTheMergedFactorsAndCopiesEverythingElse() throws Exception {
        Path out = tmp.resolve("svd");
        List<CheckpointLowRank.LinearRow> rows = new ArrayList<>();
        CheckpointLowRank run = new CheckpointLowRank(new LowRankCompressor(LowRankCompressor.Settings.defaults(LowRankMethod.LOST, 0.5)));
        CheckpointLowRank.Summary s = run.run(TestData.demoModel(), out,
                new CheckpointLowRank.Options(LowRankFormat.DENSE, false, null, Map.of("method", "lost")), null,
                new CheckpointLowRank.Listener() {
                    @Override
                    public void linear(CheckpointLowRank.LinearRow row) {
                        rows.add(row);
                    }
                });
        assertEquals(5, s.blocks());
        assertEquals(35, s.linears());
        assertEquals(35, rows.size());
        assertTrue(s.ratio() <= 0.5 && s.ratio() > 0.4, "achieved ratio " + s.ratio());
        try (Arena arena = Arena.ofConfined()) {
            Checkpoint in = Checkpoint.open(TestData.demoModel(), arena);
            Checkpoint got = Checkpoint.open(out, arena);
            assertEquals(new java.util.TreeSet<>(in.names()), new java.util.TreeSet<>(got.names()));
            for (String n : in.names()) {
                float[] a = in.tensor(n).toFloatArray(), b = got.tensor(n).toFloatArray();
                if (n.startsWith("model.layers.") && n.endsWith("_proj.weight")) {
                    String module = n.substring(0, n.length() - ".weight".length());
                    int dOut = (int) in.info(n).shape().dim(0), dIn = (int) in.info(n).shape().dim(1);
                    float[] expect = new LowRankCompressor(LowRankCompressor.Settings.defaults(LowRankMethod.LOST, 0.5))
                            .compress(module, a, dOut, dIn, null).merged();
                    assertArrayEquals(expect, b, n);
                    assertFalse(java.util.Arrays.equals(a, b), n + " was factorized");
                } else {
                    assertArrayEquals(a, b, n + " is copied unchanged");
                }
            }
        }
        Map<?, ?> config = (Map<?, ?>) Json.parse(Files.readString(out.resolve("config.json")));
        assertEquals(64L, ((Number) config.get("hidden_size")).longValue());
        assertEquals("lost", ((Map<?, ?>) ((Map<?, ?>) config.get("shrink4j")).get("provenance")).get("method"));
        assertTrue(Files.exists(out.resolve("tokenizer.json")));
    }

    @Test
    void refusesToOverwriteAndToRunCalibratedMethodsWithoutData() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("exists"));
        CheckpointLowRank.Options opt = new CheckpointLowRank.Options(LowRankFormat.DENSE, false, null, Map.of());
        CheckpointLowRank svd = new CheckpointLowRank(new LowRankCompressor(LowRankCompressor.Settings.defaults(LowRankMethod.SVD, 0.5)));
        assertThrows(ShrinkException.class, () -> svd.run(TestData.demoModel(), out, opt, null, new CheckpointLowRank.Listener() {}));
        CheckpointLowRank white = new CheckpointLowRank(new LowRankCompressor(LowRankCompressor.Settings.defaults(LowRankMethod.WHITENED_SVD, 0.5)));
        ShrinkException e = assertThrows(ShrinkException.class,
                () -> white.run(TestData.demoModel(), tmp.resolve("w"), opt, null, new CheckpointLowRank.Listener() {}));
        assertTrue(e.getMessage().contains("--calib"), e.getMessage());
        CheckpointLowRank tiny = new CheckpointLowRank(new LowRankCompressor(LowRankCompressor.Settings.defaults(LowRankMethod.SVD, 0.01)));
        ShrinkException t = assertThrows(ShrinkException.class,
                () -> tiny.run(TestData.demoModel(), tmp.resolve("t"), opt, null, new CheckpointLowRank.Listener() {}));
        assertTrue(t.getMessage().contains("cannot hold rank 1"), t.getMessage());
        assertFalse(Files.exists(tmp.resolve("t")), "no half-written output");
    }
}
