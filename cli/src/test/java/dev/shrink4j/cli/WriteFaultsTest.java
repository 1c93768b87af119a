package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults while writing a checkpoint: each gives one line on stderr and an exit code, leaves no output
 * and no hidden temporary directory, and never touches the input.
 */
class WriteFaultsTest {
    @TempDir
    Path dir;

    private Path copyOfDemo(Path where) throws IOException {
        Files.createDirectories(where);
        try (Stream<Path> files = Files.list(TestData.demoModel())) {
            for (Path f : files.toList()) Files.copy(f, where.resolve(f.getFileName()));
        }
        return where;
    }

    private static CliRunner quantize(Path in, Path out, String... extra) {
        String[] a = Stream.concat(Stream.of("quantize", "--method", "rtn", "--bits", "4", "--no-eval", "--quiet"),
                Stream.concat(Stream.of(extra), Stream.of(in.toString(), out.toString()))).toArray(String[]::new);
        return CliRunner.run(a);
    }

    /** Nothing but {@code expected} in {@code parent}: no output, no {@code .OUT.tmp-*}. */
    private static void assertOnly(Path parent, String... expected) throws IOException {
        try (Stream<Path> s = Files.list(parent)) {
            assertEquals(List.of(expected), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void outputInsideInputIsRefused() throws IOException {
        Path in = copyOfDemo(dir.resolve("in"));
        byte[] before = Files.readAllBytes(in.resolve("model.safetensors"));
        CliRunner r = quantize(in, in.resolve("sub/out"));
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("is inside IN"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(in.resolve("sub")));
        assertArrayEquals(before, Files.readAllBytes(in.resolve("model.safetensors")));
    }

    @Test
    void outputHoldingInputIsRefusedEvenWithForce() throws IOException {
        Path in = copyOfDemo(dir.resolve("outer/in"));
        CliRunner r = quantize(in, dir.resolve("outer"), "--force");
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("contains IN"), r.err());
        assertTrue(Files.exists(in.resolve("model.safetensors")));
    }

    @Test
    void outputThatIsAFileIsRefusedEvenWithForce() throws IOException {
        Path file = Files.writeString(dir.resolve("notes.txt"), "mine");
        CliRunner r = quantize(TestData.demoModel(), file, "--force");
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("is a file, not a directory"), r.err());
        assertEquals("mine", Files.readString(file));
        assertOnly(dir, "notes.txt");
    }

    @Test
    void outputUnderAFileIsOneLine() throws IOException {
        Files.writeString(dir.resolve("notes.txt"), "mine");
        CliRunner r = quantize(TestData.demoModel(), dir.resolve("notes.txt/out"));
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("is not a directory"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void readOnlyDirectoryIsOneLine() throws IOException {
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeFalse(Files.isWritable(ro), "running as root: permissions do not stop writes (see docs/reliability.md for the read-only mount)");
            CliRunner r = quantize(TestData.demoModel(), ro.resolve("out"));
            assertEquals(1, r.status(), r.err());
            assertTrue(r.err().contains("permission denied"), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertOnly(ro);
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    /** A full disk, as a 64 KiB file-size limit (ulimit -f): the first shard outgrows it. */
    @Test
    void fullDiskIsOneLineAndLeavesNothing() throws Exception {
        Path parent = Files.createDirectory(dir.resolve("small"));
        Path err = dir.resolve("err.txt");
        Process p = ChildJvm.start(ChildJvm.withFileSizeLimit(64, ChildJvm.command("quantize", "--method", "rtn", "--bits", "8",
                "--no-eval", "--quiet", TestData.demoModel().toString(), parent.resolve("out").toString())), err);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String message = Files.readString(err).strip();
        assertEquals(1, p.exitValue(), message);
        assertTrue(message.contains("file-size limit") || message.contains("disk full"), message);
        assertEquals(1, message.lines().filter(l -> l.startsWith("shrink4j")).count(), message);
        assertOnly(parent);
    }

    /** Ctrl-C while the output is being written: the shutdown hook removes the hidden directory. */
    @Test
    void sigintLeavesNoOutput() throws Exception {
        assumeFalse(sigintIgnored(),
                "SIGINT is ignored in this JVM (its shell started the build in the background), so the child inherits that and"
                        + " would ignore Ctrl-C too; run the tests in the foreground to check it");
        Path parent = Files.createDirectory(dir.resolve("int"));
        Path err = dir.resolve("err.txt");
        // Random calibration: the output's hidden directory appears within a second of start; GuidedQuant's gradient
        // pass and LNQ then run for seconds even on a quiet machine (GPTQ on 8 × 128 tokens could finish before the signal).
        Process p = ChildJvm.start(ChildJvm.command("quantize", "--method", "guidedquant", "--bits", "3", "--calib", "random", "--samples", "32", "--seq-len", "256",
                "--no-eval", "--quiet", TestData.demoModel().toString(), parent.resolve("out").toString()), err);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!hasTemp(parent) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
        assertTrue(hasTemp(parent), "the run never started writing: " + Files.readString(err));
        new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String message = Files.readString(err).strip();
        assertEquals(130, p.exitValue(), message);
        assertTrue(message.contains("interrupted"), message);
        assertOnly(parent);
    }

    /**
     * Whether this process ignores SIGINT ({@code SigIgn} in /proc/self/status, bit 2 − 1): a shell ignores it
     * for the commands it runs in the background, and children inherit the ignored disposition.
     */
    private static boolean sigintIgnored() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("SigIgn:")) return (Long.parseLong(line.substring(7).strip(), 16) & 2) != 0;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: assume the default disposition
        }
        return false;
    }

    private static boolean hasTemp(Path parent) throws IOException {
        try (Stream<Path> s = Files.list(parent)) {
            return s.anyMatch(f -> f.getFileName().toString().startsWith(".out.tmp-"));
        }
    }
}
