package dev.shrink4j.tensors.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Scratch files for fuzz targets whose reader takes a path: one directory per JVM (in /dev/shm when
 * there is one, so a million executions do not wear a disk), rewritten for each input.
 */
public final class FuzzFiles {
    private static Path dir;

    private FuzzFiles() {}

    /** The scratch directory, created on first use and removed when the JVM exits. */
    public static synchronized Path dir() {
        if (dir == null) {
            try {
                Path shm = Path.of("/dev/shm");
                dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "shrink4j-fuzz-")
                        : Files.createTempDirectory("shrink4j-fuzz-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path d = dir;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (var s = Files.walk(d)) {
                    s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException ignored) {
                    // scratch only
                }
            }));
        }
        return dir;
    }

    /** Writes {@code bytes} to {@code name} in the scratch directory and returns its path. */
    public static Path write(String name, byte[] bytes) {
        try {
            return Files.write(dir().resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
