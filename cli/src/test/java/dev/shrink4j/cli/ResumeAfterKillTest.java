package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kill -9 at seeded random points of demo runs, then the same command again: it resumes from what the
 * killed runs finished and writes an output byte-identical to an uninterrupted run (docs/reliability.md
 * "Resume"). Each method runs as a chain of child JVMs on one OUT: each child is killed a random delay
 * after it has finished a random number (1–2) of new steps (a block, the calibration, the gradient
 * statistics, a greedy round), so the chain moves forward and the kills land in computing, in writing
 * a step and in writing the output. After every kill the state left on disk is copied aside and the
 * command is run there to the end (in this JVM), and that output is compared byte for byte with the
 * uninterrupted run's.
 *
 * <p>A child that finished before its kill is not a kill point. CI checks {@value #CI_KILLS} kill points per
 * method (9 in all). The full run is
 * {@code -Dshrink4j.resumeKills=7}: 21 kill points (docs/reliability.md records its result).
 */
class ResumeAfterKillTest {
    private static final int CI_KILLS = 3;
    private static final int KILLS = Integer.getInteger("shrink4j.resumeKills", CI_KILLS);

    @TempDir
    Path dir;

    @TempDir
    static Path references;

    private static final java.util.Map<String, Path> REFERENCE = new java.util.HashMap<>();

    /** The uninterrupted run's output, made once per method. */
    private static Path reference(String method) {
        return REFERENCE.computeIfAbsent(method, m -> {
            Path out = references.resolve(m + "/out");
            CliRunner r = CliRunner.run(command(m, out));
            assertEquals(0, r.status(), r.err());
            return out;
        });
    }

    private static String[] command(String method, Path out) {
        String model = TestData.demoModel().toString();
        return switch (method) {
            case "guidedquant" -> new String[] {"quantize", "--method", "guidedquant", "--bits", "3", "--calib", "random", "--samples", "4",
                    "--seq-len", "64", "--no-eval", model, out.toString()};
            case "2ssp" -> new String[] {"prune", "--method", "2ssp", "--sparsity", "0.3", "--calib", "random", "--samples", "4",
                    "--seq-len", "64", "--no-eval", model, out.toString()};
            case "lost" -> new String[] {"lowrank", "--method", "lost", "--params-ratio", "0.5", "--no-eval", model, out.toString()};
            default -> throw new IllegalArgumentException(method);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"guidedquant", "2ssp", "lost"})
    void resumedOutputsAreTheUninterruptedBytes(String method) throws Exception {
        Path reference = reference(method);
        Random rnd = new Random(19L * method.hashCode());
        Path chain = dir.resolve("chain");
        Path out = chain.resolve("out");
        Path state = chain.resolve(".out.resume");
        int resumedWithWork = 0;
        int checked = 0; // kills that left the run unfinished, each continued and compared
        for (int k = 0; checked < KILLS && k < 3 * KILLS; k++) {
            if (Files.exists(out)) deleteTree(chain); // the chain ran to its end: start another
            Files.createDirectories(chain);
            int before = entries(state);
            int wait = 1 + rnd.nextInt(2); // new steps to let it finish before the delay
            Process p = ChildJvm.start(ChildJvm.command(command(method, out)), dir.resolve("err-" + k + ".txt"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (p.isAlive() && entries(state) < before + wait && System.nanoTime() < deadline) Thread.sleep(5);
            Thread.sleep(rnd.nextInt(400));
            p.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            if (Files.exists(out)) continue; // it finished first: not a kill point
            checked++;

            // Continue what this kill left, elsewhere, to the end, and compare.
            Path copy = dir.resolve("check-" + k);
            copyTree(chain, copy);
            CliRunner again = CliRunner.run(command(method, copy.resolve("out")));
            assertEquals(0, again.status(), again.err());
            if (again.err().contains("from the interrupted run")) resumedWithWork++; // blocks, stage 1, rounds or gradients
            assertFalse(again.err().contains("starting over"), again.err());
            assertSameFiles(reference, copy.resolve("out"));
            assertEquals(List.of("out"), names(copy), "the resumed run leaves nothing but its output");
        }
        assertEquals(KILLS, checked, "kill points that left the run unfinished");
        assertTrue(resumedWithWork > 0, "no kill left finished work to resume from: nothing was tested");
    }

    @org.junit.jupiter.api.Test
    void aChangedSettingOrNoResumeStartsOverAndSaysWhy() throws Exception {
        // What a killed run leaves: the run in a child killed after its second block.
        Path out = dir.resolve("run/out");
        Files.createDirectories(out.getParent());
        Process p = ChildJvm.start(ChildJvm.command(command("guidedquant", out)), dir.resolve("err.txt"));
        Path state = out.resolveSibling(".out.resume");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (p.isAlive() && !Files.exists(state.resolve("quantize-block-00001/entry.json")) && System.nanoTime() < deadline) Thread.sleep(5);
        p.destroyForcibly();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertTrue(Files.exists(state.resolve("quantize-block-00001/entry.json")), "the child finished no block");
        Path copy = dir.resolve("copy");
        copyTree(out.getParent(), copy);

        List<String> bits4 = new ArrayList<>(List.of(command("guidedquant", copy.resolve("out"))));
        bits4.set(bits4.indexOf("--bits") + 1, "4");
        CliRunner changed = CliRunner.run(bits4.toArray(String[]::new));
        assertEquals(0, changed.status(), changed.err());
        assertTrue(changed.err().contains("note: starting over: --bits was 3 in the interrupted run, now 4 (removed "), changed.err());
        assertFalse(changed.err().contains("resume: "), changed.err());

        List<String> noResume = new ArrayList<>(List.of(command("guidedquant", out)));
        noResume.add(1, "--no-resume");
        CliRunner again = CliRunner.run(noResume.toArray(String[]::new));
        assertEquals(0, again.status(), again.err());
        assertTrue(again.err().contains("note: starting over: --no-resume (removed "), again.err());
        assertFalse(again.err().contains("resume: "), again.err());
        assertSameFiles(reference("guidedquant"), out);
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** Finished entries in the resume directory (each a directory with its record). */
    private static int entries(Path state) throws IOException {
        if (!Files.isDirectory(state)) return 0;
        try (Stream<Path> s = Files.list(state)) {
            return (int) s.filter(e -> Files.isRegularFile(e.resolve("entry.json"))).count();
        }
    }

    private static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(f -> f.getFileName().toString()).sorted().toList();
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

    private static void assertSameFiles(Path expected, Path actual) throws IOException {
        assertEquals(names(expected), names(actual));
        for (String n : names(expected)) {
            assertArrayEquals(Files.readAllBytes(expected.resolve(n)), Files.readAllBytes(actual.resolve(n)), n);
        }
    }
}
