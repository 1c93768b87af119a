package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shrink4j run} killed (kill -9) after its first stage continues from that stage: the same
 * command skips it, says so, and writes the uninterrupted run's bytes; a changed recipe or
 * {@code --no-resume} starts over and says why (docs/reliability.md "Resume").
 */
class RecipeResumeTest {
    private static final String STORY = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big red ball. She ran to get it, but a dog got it first. Lily was sad.\n\n";

    @TempDir Path dir;

    private Path recipe(String name, int bits) throws IOException {
        Path text = dir.resolve("calib.txt");
        if (!Files.exists(text)) Files.writeString(text, STORY.repeat(20));
        return Files.writeString(dir.resolve(name), """
                calibration: {text: %s, samples: 4, seq_len: 64}
                stages:
                  - prune: {method: width, sparsity: 0.25}
                  - quantize: {method: guidedquant, bits: %d}
                evaluation: {texts: [%s], max_windows: 1, seq_len: 32}
                """.formatted(text, bits, text));
    }

    @Test
    void aKilledRecipeContinuesFromItsFinishedStageAndWritesTheSameBytes() throws Exception {
        Path recipe = recipe("r.yaml", 3);
        String demo = TestData.demoModel().toString();
        Path reference = dir.resolve("a/out");
        Files.createDirectories(reference.getParent());
        CliRunner ref = CliRunner.run("run", "--quiet", recipe.toString(), demo, reference.toString());
        assertEquals(0, ref.status(), ref.err());

        // The same run in a child JVM, killed once its first stage is committed.
        Path out = dir.resolve("b/out");
        Files.createDirectories(out.getParent());
        Path state = out.resolveSibling(".out.recipe-resume");
        Process p = ChildJvm.start(ChildJvm.command("run", "--quiet", recipe.toString(), demo, out.toString()), dir.resolve("err.txt"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (p.isAlive() && !Files.isDirectory(state.resolve("stage-1")) && System.nanoTime() < deadline) Thread.sleep(5);
        p.destroyForcibly(); // SIGKILL: no shutdown hook, no finally
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertFalse(Files.exists(out), "the child finished before it was killed: no kill point");
        assertTrue(Files.isDirectory(state.resolve("stage-1")), "the child was killed before its first stage was committed");

        // A changed recipe does not reuse it; copy the state aside for that check first.
        Path other = dir.resolve("c/out");
        copyTree(out.getParent(), other.getParent());
        CliRunner changed = CliRunner.run("run", recipe("r4.yaml", 4).toString(), demo, other.toString());
        assertEquals(0, changed.status(), changed.err());
        assertTrue(changed.err().contains("note: starting over: the recipe or IN changed since the interrupted run"), changed.err());

        CliRunner again = CliRunner.run("run", recipe.toString(), demo, out.toString());
        assertEquals(0, again.status(), again.err());
        assertTrue(again.err().contains("resume: stage 1/2 (prune) finished in the interrupted run"), again.err());
        assertSameTree(reference, out);
        assertEquals(List.of("out"), names(out.getParent()), "nothing but the output is left");

        // --no-resume over a fresh kill's state starts over and says so.
        deleteTree(out);
        Files.createDirectories(state.resolve("stage-1"));
        Files.writeString(state.resolve("recipe-fingerprint"), "from an older run\n");
        CliRunner fresh = CliRunner.run("run", "--no-resume", recipe.toString(), demo, out.toString());
        assertEquals(0, fresh.status(), fresh.err());
        assertTrue(fresh.err().contains("note: starting over: --no-resume (removed "), fresh.err());
        assertSameTree(reference, out);
    }

    private static void assertSameTree(Path expected, Path actual) throws IOException {
        List<String> e = relative(expected), a = relative(actual);
        assertEquals(e, a);
        for (String n : e) {
            Path f = expected.resolve(n);
            if (Files.isRegularFile(f)) assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(actual.resolve(n)), n);
        }
    }

    private static List<String> relative(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.map(p -> root.relativize(p).toString()).sorted().toList();
        }
    }

    private static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.sorted(Comparator.naturalOrder()).toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t);
            }
        }
    }
}
