package dev.shrink4j.lowrank;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.Formats;
import dev.shrink4j.tensors.formats.LowRankColumnSparse;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointLowRankTest {
    /** Factors are F32 like the demo's weights; B·A sums r products. */
    private static final float F32_MERGE = 1e-6f;
    /** Same weights and kernels; only the summation order of parallel chunks may differ. */
    private static final float LOGIT_TOL = 1e-4f;

    @TempDir
    Path tmp;

    private static CheckpointLowRank driver(LowRankMethod m, double ratio) {
        return new CheckpointLowRank(new LowRankCompressor(LowRankCompressor.Settings.defaults(m, ratio)));
    }

    private static CheckpointLowRank.Options options(LowRankFormat f) {
        return new CheckpointLowRank.Options(f, false, null, Map.of("method", "test"));
    }

    @Test
    void shrink4jOutputStoresLostFactorsAndColumnsThatDequantizeToTheMergedWeight() throws Exception {
        Path out = tmp.resolve("lost");
        List<CheckpointLowRank.LinearRow> rows = new ArrayList<>();
        CheckpointLowRank.Summary s = driver(LowRankMethod.LOST, 0.5).run(TestData.demoModel(), out, options(LowRankFormat.SHRINK4J),
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
        Map<?, ?> config = (Map<?, ?>) Json.parse(Files.readString(out.resolve("config.json")));
        Map<?, ?> descriptors = (Map<?, ?>) ((Map<?, ?>) config.get("shrink4j")).get("tensors");
        assertEquals(35, descriptors.size());
        assertTrue(Files.exists(out.resolve("tokenizer.json")));
        try (Arena arena = Arena.ofConfined()) {
            Checkpoint in = Checkpoint.open(TestData.demoModel(), arena);
            Checkpoint got = Checkpoint.open(out, arena);
            Map<String, Tensor> all = new HashMap<>();
            for (String n : got.names()) all.put(n, got.tensor(n));
            String module = "model.layers.2.mlp.down_proj"; // (64, 172): c = 8, r = ⌊(5504 − 512)/236⌋ = 21
            @SuppressWarnings("unchecked")
            CompressedWeight w = Formats.fromTensors(module, (Map<String, ?>) descriptors.get(module), all);
            LowRankColumnSparse lost = (LowRankColumnSparse) w;
            assertEquals(8, lost.columns());
            assertEquals(21, lost.lowRank().rank());
            float[] original = in.tensor(module + ".weight").toFloatArray();
            float[] expect = new LowRankCompressor(LowRankCompressor.Settings.defaults(LowRankMethod.LOST, 0.5))
                    .compress(module, original, 64, 172, null).merged();
            float[] stored = w.dequantize(arena).toFloatArray();
            for (int i = 0; i < expect.length; i++) assertEquals(expect[i], stored[i], F32_MERGE);
            assertFalse(got.contains(module + ".weight"));
            for (String n : in.names()) {
                if (!n.matches("model\\.layers\\.\\d+\\..*_proj\\.weight")) {
                    assertArrayEquals(in.tensor(n).toFloatArray(), got.tensor(n).toFloatArray(), n + " is copied unchanged");
                }
            }
        }
    }

    @Test
    void calibratedWhitenedSvdGoesThroughTheBlockPipelineAndLeavesTheModelCompressed() throws Exception {
        Path out = tmp.resolve("white");
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            int[] stream = new SplittableRandom(1).ints(2000, 3, model.config().vocabSize()).toArray();
            Calibration cal = Calibration.fromTokens(stream, "random", model.config(), 4, 64, 0);
            List<CheckpointLowRank.LinearRow> rows = new ArrayList<>();
            driver(LowRankMethod.WHITENED_SVD, 0.5).run(model, TestData.demoModel(), out, options(LowRankFormat.DENSE), cal,
                    new CheckpointLowRank.Listener() {
                        @Override
                        public void linear(CheckpointLowRank.LinearRow row) {
                            rows.add(row);
                        }
                    });
            assertEquals(35, rows.size());
            assertEquals("model.layers.0.self_attn.q_proj", rows.get(0).module(), "true-sequential order, q/k/v first");
            assertEquals("model.layers.0.mlp.down_proj", rows.get(6).module());
            for (CheckpointLowRank.LinearRow r : rows) {
                assertTrue(r.outputError() > 0 && r.outputError() < 1, r.module() + " output error " + r.outputError());
            }
            Checkpoint got = Checkpoint.open(out, arena);
            String name = Proj.UP.weightName(3);
            assertArrayEquals(got.tensor(name).toFloatArray(), model.layer(3).linear(Proj.UP).weight(arena).toFloatArray(),
                    "the model holds what was written");
        }
    }

    @Test
    void theWrittenFactorsLoadAsAModelThatComputesWhatTheRunLeftInMemory() throws Exception {
        Path out = tmp.resolve("lost-model");
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            driver(LowRankMethod.LOST, 0.75).run(model, TestData.demoModel(), out, options(LowRankFormat.SHRINK4J), null,
                    new CheckpointLowRank.Listener() {});
            LlamaModel loaded = LlamaModel.load(out, arena); // low_rank_column_sparse through the formats
            int[] tokens = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426};
            float[] a = model.logits(tokens);
            float[] b = loaded.logits(tokens);
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], LOGIT_TOL, "logit " + i);
        }
    }

    @Test
    void refusesToOverwriteAndToRunCalibratedMethodsWithoutData() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("exists"));
        CheckpointLowRank.Options opt = options(LowRankFormat.DENSE);
        CheckpointLowRank.Listener quiet = new CheckpointLowRank.Listener() {};
        assertThrows(ShrinkException.class, () -> driver(LowRankMethod.SVD, 0.5).run(TestData.demoModel(), out, opt, quiet));
        ShrinkException e = assertThrows(ShrinkException.class,
                () -> driver(LowRankMethod.WHITENED_SVD, 0.5).run(TestData.demoModel(), tmp.resolve("w"), opt, quiet));
        assertTrue(e.getMessage().contains("--calib"), e.getMessage());
        ShrinkException t = assertThrows(ShrinkException.class,
                () -> driver(LowRankMethod.SVD, 0.01).run(TestData.demoModel(), tmp.resolve("t"), opt, quiet));
        assertTrue(t.getMessage().contains("cannot hold rank 1"), t.getMessage());
        assertFalse(Files.exists(tmp.resolve("t")), "no half-written output");
        assertEquals(new TreeSet<>(List.of("exists")), new TreeSet<>(List.of(tmp.toFile().list())));
    }
}
