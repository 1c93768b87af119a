package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Resume;
import dev.shrink4j.tensors.io.AbandonedOutputs;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A quantizer resumed from the first blocks of an interrupted run (its state as a kill leaves it: the
 * resume directory with blocks 0–1, owner gone) computes the rest and gives the bytes of a run that was
 * never interrupted, without the gradient pass when the interrupted run had finished it.
 */
class QuantizerResumeTest {
    @TempDir Path dir;

    @ParameterizedTest
    @EnumSource(value = QuantMethod.class, names = {"GPTQ", "SQUEEZELLM"})
    void resumedFromTwoBlocksGivesTheUninterruptedBytes(QuantMethod m) throws IOException {
        QuantizeOptions o = QuantizeOptions.defaults(m, 3);
        DemoQuantizeRun plain = DemoQuantizeRun.of(o, null);
        Path out = dir.resolve("out");
        Map<String, String> settings = Map.of("method", m.cliName(), "bits", "3");
        Resume first = Resume.open(TestData.demoModel(), out, "quantize", settings, false, line -> {});
        DemoQuantizeRun.of(o, null, first); // not closed: as if killed
        Path state = first.directory();
        try (Stream<Path> s = Files.list(state)) {
            for (Path e : s.filter(p -> p.getFileName().toString().matches("quantize-block-0000[2-9]")).toList()) deleteTree(e);
        }
        Files.delete(state.resolve(AbandonedOutputs.OWNER_FILE)); // its process is gone

        List<String> notes = new ArrayList<>();
        try (Resume again = Resume.open(TestData.demoModel(), out, "quantize", settings, false, notes::add)) {
            assertTrue(again.resumed(), notes.toString());
            DemoQuantizeRun resumed = DemoQuantizeRun.of(o, null, again);
            assertEquals(null, plain.firstDifference(resumed), "differs from the uninterrupted run");
            assertTrue(notes.contains("resume: blocks 0–1 of 5 from the interrupted run; block 2's inputs recomputed by running the calibration through them"),
                    notes.toString());
            // Dense propagation runs the original (counted) linears: blocks 0–1 only propagate now, no observation pass.
            if (m.densePropagation()) assertTrue(resumed.forwards() < plain.forwards(), resumed.forwards() + " vs " + plain.forwards());
            if (m.needsGradients()) {
                assertTrue(resumed.stages().contains("gradient statistics from the interrupted run (checkpointed)"), resumed.stages().toString());
                assertFalse(resumed.stages().stream().anyMatch(s -> s.startsWith("gradients")), resumed.stages().toString());
            }
        }
        assertFalse(Files.exists(state), "an orderly end removes the resume state");
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
