package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EssentialSparsityTest {
    private static final int T = 32;

    @Test
    void sweepOnTheDemoModel(@TempDir Path tmp) throws Exception {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            int[] stream = DemoText.tokens(model, 2 * (T - 1));
            int[] windows = CalibrationNll.windows(stream, T, model.config().bosTokenId(), 0);
            // the sweep's scorer follows the docs/methods/evaluation.md §1 protocol of the eval command exactly
            assertEquals(Perplexity.evaluate(model, stream, T, 0, null).nll(),
                    CalibrationNll.mean(model, windows, 2, T, Set.of()), 1e-12);
            double[] levels = {0, 0.2, 0.4, 0.6};
            EssentialSparsity.Result r = EssentialSparsity.sweep(model, windows, 2, T, levels,
                    List.of(EssentialSparsity.Variant.values()), 0.01, 0, null);
            // 4:8 cannot take down_proj's 172 input columns: skipped with a note naming it
            assertTrue(r.notes().stream().anyMatch(n -> n.contains("4:8") && n.contains("down_proj")), r.notes().toString());
            assertEquals(35, r.matrices().size());
            long total = 5L * (64 * 64 * 2 + 32 * 64 * 2 + 3 * 64 * 172);
            for (EssentialSparsity.Point p : r.points()) {
                if (p.variant() == EssentialSparsity.Variant.GLOBAL) {
                    assertEquals(Math.floor(p.target() * total) / total, p.achieved(), 1e-12, "global " + p.target());
                }
                if (p.variant() == EssentialSparsity.Variant.NM_2_4) {
                    assertEquals(0.5, p.achieved(), 1e-12);
                    p.perMatrix().values().forEach(v -> assertEquals(0.5, v, 1e-12));
                }
            }
            List<EssentialSparsity.Point> global = r.curve(EssentialSparsity.Variant.GLOBAL);
            assertEquals(4, global.size());
            assertTrue(global.get(3).nll() > global.get(1).nll(), "60% global should hurt more than 20%");
            assertEquals(2, r.detections().size());
            Path png = tmp.resolve("s.png");
            EssentialSparsityReport.plot(r, png, "demo");
            assertTrue(Files.size(png) > 1000);
            String md = EssentialSparsityReport.markdown(r, java.util.Map.of("model", "demo"), "s.png");
            assertTrue(md.contains("| global |") && md.contains("2:4"), md);
        }
    }
}
