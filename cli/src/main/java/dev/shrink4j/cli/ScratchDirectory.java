package dev.shrink4j.cli;

import dev.shrink4j.tensors.io.AbandonedOutputs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A directory for weight-shaped scratch files (ReQuant's mapped Fisher and PQI accumulators) beside
 * OUT, named {@code .OUT.tmp-scratch-PID} and claimed like a temporary output: closed, it is removed;
 * left by a killed run, the next run for the same OUT removes it ({@link AbandonedOutputs}), so a
 * crash never leaves gigabytes of scratch behind.
 */
final class ScratchDirectory implements AutoCloseable {
    private final Path dir;

    private ScratchDirectory(Path dir) {
        this.dir = dir;
    }

    static ScratchDirectory beside(Path out) {
        Path target = out.toAbsolutePath().normalize();
        Path dir = target.resolveSibling("." + target.getFileName() + ".tmp-scratch-" + ProcessHandle.current().pid());
        try {
            Files.createDirectories(dir);
            AbandonedOutputs.claim(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the scratch directory " + dir + ": " + e.getMessage(), e);
        }
        return new ScratchDirectory(dir);
    }

    Path path() {
        return dir;
    }

    @Override
    public void close() {
        try (var files = Files.list(dir)) { // flat: the owner file and the scratch files
            for (Path f : files.toList()) Files.deleteIfExists(f);
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // Best effort: what is left is claimed, and the next run for this OUT removes it.
        }
    }
}
