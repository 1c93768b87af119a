package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Resume;
import dev.shrink4j.tensors.io.AbandonedOutputs;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SparseGPT 2:4 resumed from blocks 0–2 of an interrupted run (the resume directory as a kill leaves it)
 * hands the sink, in the same order, exactly the matrices of a run that was never interrupted.
 */
class LayerwisePrunerResumeTest {
    private static final int T = 32;

    @TempDir Path dir;

    /** Every matrix the sink got, by tensor name, in arrival order. */
    private static Map<String, float[]> prune(Resume resume) {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            Calibration cal = Calibration.ofWindows(DemoText.tokens(model, 4 * T), T, "test");
            Map<String, float[]> got = new LinkedHashMap<>();
            LayerwisePruner.run(model, cal, LayerwisePruner.Settings.of(LayerwisePruner.Method.SPARSEGPT, 0.5, NmPattern.parse("2:4", "p")),
                    (l, p, w, dOut, dIn) -> got.put(p.weightName(l), w.clone()), null, null, resume);
            return got;
        }
    }

    @Test
    void resumedFromThreeBlocksGivesTheUninterruptedMatrices() throws IOException {
        Map<String, float[]> plain = prune(null);
        Path out = dir.resolve("out");
        Map<String, String> settings = Map.of("method", "sparsegpt", "pattern", "2:4");
        Resume first = Resume.open(TestData.demoModel(), out, "prune", settings, false, line -> {});
        prune(first); // not closed: as if killed
        try (Stream<Path> s = Files.list(first.directory())) {
            for (Path e : s.filter(p -> p.getFileName().toString().matches("prune-block-0000[3-9]")).toList()) deleteTree(e);
        }
        Files.delete(first.directory().resolve(AbandonedOutputs.OWNER_FILE)); // its process is gone

        List<String> notes = new ArrayList<>();
        try (Resume again = Resume.open(TestData.demoModel(), out, "prune", settings, false, notes::add)) {
            Map<String, float[]> resumed = prune(again);
            assertTrue(notes.contains("resume: blocks 0–2 of 5 from the interrupted run; block 3's inputs recomputed by running the calibration through them"),
                    notes.toString());
            assertEquals(List.copyOf(plain.keySet()), List.copyOf(resumed.keySet()));
            plain.forEach((name, w) -> assertArrayEquals(w, resumed.get(name), name));
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
