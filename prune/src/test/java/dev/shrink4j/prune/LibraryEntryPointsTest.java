package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.tensors.io.CheckpointWriter;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's pruning snippet, as written there: layer-wise pruning to a checkpoint, and 2SSP in one call. */
class LibraryEntryPointsTest {
    @TempDir
    Path dir;

    @Test
    void theReadmeSnippetRuns() {
        Path in = TestData.demoModel();
        Path out = dir.resolve("wanda");
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(in, arena);
            Calibration calib = Calibration.selfGenerated(model, 8, 128, 0, null);
            try (CheckpointWriter writer = CheckpointWriter.create(out, CheckpointWriter.Options.defaults())) {
                PrunedWeightsWriter w = new PrunedWeightsWriter(model, writer, PrunedWeightsWriter.Storage.CSR, null);
                LayerwisePruner.run(model, calib, LayerwisePruner.Settings.of(LayerwisePruner.Method.WANDA, 0.5, null), w, null);
                w.finish(Map.of("method", "wanda"));
                PrunedCheckpoint.copySideFiles(in, writer);
                writer.commit();
            }
            LlamaModel pruned = LlamaModel.load(out, arena);          // runs the CSR kernels
            assertTrue(pruned.isCompressed());
            assertEquals(0.5, zeroShare(out), 1e-9);

            StructuredPruning.Result r = StructuredPruning.run(model, calib, StructuredPruning.Kind.TWO_SSP, 0.3,
                    StructuredPruning.Listener.NONE, arena);
            assertTrue(r.achievedSparsity() > 0.2 && r.achievedSparsity() < 0.4, "achieved " + r.achievedSparsity());
        }
    }

    /** The share of zeros in the written checkpoint's block linears, read back through its compressed formats. */
    private static double zeroShare(Path out) {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel m = LlamaModel.load(out, arena);
            long zeros = 0;
            long all = 0;
            for (int l = 0; l < m.numLayers(); l++) {
                for (var lin : m.layer(l).linears().values()) {
                    float[] dense = lin.weight(arena).toFloatArray();
                    for (float v : dense) if (v == 0f) zeros++;
                    all += dense.length;
                }
            }
            return (double) zeros / all;
        }
    }
}
