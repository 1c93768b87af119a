package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.CheckpointWriter;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TwoSspModelTest {
    private static final int T = 32;

    @Test
    void countsAndFormulaOnTheDemoModel() {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            TwoSsp.Counts c = TwoSsp.Counts.of(model);
            assertEquals(12288, c.attention());
            assertEquals(33024, c.mlp());
            assertEquals(227200, c.main());
            assertEquals(0, TwoSsp.balance(model, 0.25).attentionToRemove());
            assertEquals(1, TwoSsp.balance(model, 0.375).attentionToRemove());
            assertEquals(1, TwoSsp.balance(model, 0.5).attentionToRemove());
            ShrinkException e = assertThrows(ShrinkException.class, () -> TwoSsp.balance(model, 0.999));
            assertTrue(e.getMessage().contains("cannot reach"), e.getMessage());
        }
    }

    @Test
    void removesExactlyTheFormulaCountsAndWritesASmallerModel(@TempDir Path tmp) {
        Path out = tmp.resolve("pruned");
        double inMemory;
        int[] eval;
        TwoSspBalance b;
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            b = TwoSsp.balance(model, 0.5);
            int[] cal = DemoText.tokens(model, 3 * T);
            WidthPruning[] scores = TwoSsp.scoreNeurons(model, cal, 3, T, 2);
            for (int l = 0; l < model.numLayers(); l++) {
                TwoSsp.keepNeurons(model, l, scores[l].keep(b.keptNeurons()), arena);
            }
            List<GreedyRemoval.Step> steps = TwoSsp.removeAttention(model, DemoText.slice(cal, 0, T), T, b.attentionToRemove(), null);
            assertEquals(b.attentionToRemove(), steps.size());
            int without = 0;
            long params = 0;
            for (int l = 0; l < model.numLayers(); l++) {
                Layer layer = model.layer(l);
                assertEquals(b.keptNeurons(), layer.intermediateSize());
                without += layer.hasAttention() ? 0 : 1;
                for (Linear lin : layer.linears().values()) {
                    params += (long) lin.inFeatures() * lin.outFeatures();
                }
            }
            assertEquals(1, without);
            // P_main − N_attn·P_attn − L·(d_ff − k)·3h, norms aside
            assertEquals(5L * (12288 + 33024) - 12288 - 5L * (172 - b.keptNeurons()) * 3 * 64, params);
            eval = DemoText.windows(model, 2, T);
            inMemory = CalibrationNll.mean(model, eval, 2, T, Set.of());
            try (CheckpointWriter w = CheckpointWriter.create(out, CheckpointWriter.Options.defaults())) {
                PrunedCheckpoint.writeStructured(model, null, DType.F32, w, Map.of("method", "2ssp"));
                PrunedCheckpoint.copySideFiles(TestData.demoModel(), w);
                w.commit();
            }
        }
        try (Arena arena = Arena.ofShared()) {
            LlamaModel back = LlamaModel.load(out, arena);
            assertEquals(b.keptNeurons(), back.config().intermediateSize(0));
            assertEquals(1, back.config().attentionRemoved().cardinality());
            assertFalse(back.weights().contains("model.layers." + back.config().attentionRemoved().nextSetBit(0) + ".self_attn.q_proj.weight"));
            assertEquals(inMemory, CalibrationNll.mean(back, eval, 2, T, Set.of()), 0.0);
        }
    }

    @Test
    void depthPruningRemovesWholeBlocks(@TempDir Path tmp) {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            int[] cal = DemoText.tokens(model, T);
            assertEquals(2, DepthPruning.blocksFor(0.375, 5)); // 1.875 → 2
            List<GreedyRemoval.Step> steps = DepthPruning.run(model, cal, 1, T, 2, null);
            int[] kept = DepthPruning.kept(5, steps);
            assertEquals(3, kept.length);
            Path out = tmp.resolve("depth");
            try (CheckpointWriter w = CheckpointWriter.create(out, CheckpointWriter.Options.defaults())) {
                PrunedCheckpoint.writeStructured(model, kept, DType.F32, w, Map.of("method", "depth"));
                PrunedCheckpoint.copySideFiles(TestData.demoModel(), w);
                w.commit();
            }
            double skipped = CalibrationNll.mean(model, cal, 1, T, Set.of(steps.get(0).removed(), steps.get(1).removed()));
            try (Arena a2 = Arena.ofShared()) {
                LlamaModel back = LlamaModel.load(out, a2);
                assertEquals(3, back.numLayers());
                assertEquals(skipped, CalibrationNll.mean(back, cal, 1, T, Set.of()), 0.0);
                assertEquals(Math.exp(skipped), steps.get(1).score(), 1e-9 * Math.exp(skipped));
            }
        }
    }
}
