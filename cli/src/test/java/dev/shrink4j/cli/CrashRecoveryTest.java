package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 in the middle of a run, then the same command again: the rerun removes the partly written
 * output the killed run left (its hidden temporary directory, which no shutdown hook could remove) and
 * writes an output byte-identical to an uninterrupted run, leaving nothing else behind (it resumes from
 * the finished blocks: {@link ResumeAfterKillTest}, docs/reliability.md).
 */
class CrashRecoveryTest {
    private static final int KILLS = 3;

    @TempDir
    Path dir;

    private static String[] command(Path out) {
        return new String[] {"quantize", "--method", "gptq", "--bits", "4", "--calib", "random", "--samples", "8", "--seq-len", "128",
                "--no-eval", TestData.demoModel().toString(), out.toString()};
    }

    @Test
    void aRerunAfterKill9CleansUpAndWritesTheSameBytes() throws Exception {
        Path reference = dir.resolve("reference/out");
        CliRunner r = CliRunner.run(command(reference));
        assertEquals(0, r.status(), r.err());
        Random rnd = new Random(19);
        int killedMidway = 0;
        for (int k = 0; k < KILLS; k++) {
            Path parent = Files.createDirectories(dir.resolve("run" + k));
            Path out = parent.resolve("out");
            Process p = ChildJvm.start(ChildJvm.command(command(out)), dir.resolve("err" + k + ".txt"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            // Wait until the temporary output is claimed (its owner file written): a kill before that leaves
            // a directory no run may take as abandoned, which the rerun rightly leaves alone (a busy
            // machine can stretch that window past the shortest random delay below).
            while (!claimed(parent) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
            Thread.sleep(rnd.nextInt(1500)); // a random point while the blocks are being written
            p.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            boolean left = !temps(parent).isEmpty();
            if (left) killedMidway++;
            CliRunner again = CliRunner.run(command(out));
            assertEquals(0, again.status(), again.err());
            assertEquals(left, again.err().contains("note: removed"), again.err());
            assertEquals(List.of(), temps(parent));
            assertTrue(Files.notExists(parent.resolve(".out.resume")), "the resume state is removed once the output is written");
            assertSameFiles(reference, out);
        }
        assertTrue(killedMidway > 0, "every child finished before it was killed: nothing was tested");
    }

    private static boolean claimed(Path parent) throws IOException {
        for (Path t : temps(parent)) if (Files.exists(t.resolve(dev.shrink4j.tensors.io.AbandonedOutputs.OWNER_FILE))) return true;
        return false;
    }

    private static List<Path> temps(Path parent) throws IOException {
        try (Stream<Path> s = Files.list(parent)) {
            return s.filter(f -> f.getFileName().toString().startsWith(".out.tmp-")).toList();
        }
    }

    private static void assertSameFiles(Path expected, Path actual) throws IOException {
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.list(expected)) {
            s.forEach(f -> names.add(f.getFileName().toString()));
        }
        try (Stream<Path> s = Files.list(actual)) {
            assertEquals(names.stream().sorted().toList(), s.map(f -> f.getFileName().toString()).sorted().toList());
        }
        for (String n : names) {
            assertArrayEquals(Files.readAllBytes(expected.resolve(n)), Files.readAllBytes(actual.resolve(n)), n);
        }
    }
}
