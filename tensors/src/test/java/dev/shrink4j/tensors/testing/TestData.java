package dev.shrink4j.tensors.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where tests find data: the project root (for the embedded demo model) and {@code ../shared/data}.
 * Surefire passes both as system properties; running from an IDE falls back to the working directory.
 */
public final class TestData {
    private TestData() {}

    /** The project root (the directory holding the reactor pom). */
    public static Path root() {
        String p = System.getProperty("shrink4j.root");
        if (p != null) {
            return Path.of(p);
        }
        Path here = Path.of("").toAbsolutePath();
        while (here != null && !Files.isDirectory(here.resolve("examples"))) {
            here = here.getParent();
        }
        return here == null ? Path.of("").toAbsolutePath() : here;
    }

    /** The embedded demo checkpoint, {@code examples/stories260K}; always present in a clone. */
    public static Path demoModel() {
        return root().resolve("examples/stories260K");
    }

    /** {@code ../shared/data}, or skips the calling test with a clear message when it is absent. */
    public static Path sharedData() {
        String p = System.getProperty("shrink4j.shared");
        Path shared = p != null ? Path.of(p) : root().resolveSibling("shared");
        Path data = shared.resolve("data").normalize();
        assumeTrue(Files.isDirectory(data), "skipped: shared test data not found at " + data + " (expected ../shared/data beside the project)");
        return data;
    }

    /** A file under {@code ../shared/data}, skipping the test when absent. */
    public static Path sharedFile(String relative) {
        Path f = sharedData().resolve(relative);
        assumeTrue(Files.exists(f), "skipped: shared test file not found: " + f);
        return f;
    }
}
