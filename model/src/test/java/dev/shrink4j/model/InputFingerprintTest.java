package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The resume fingerprint sees a one-bit change in any tensor's bytes and names where (docs/reliability.md). */
class InputFingerprintTest {
    @TempDir
    Path dir;

    @Test
    void oneFlippedBitInATensorIsNamedAndTheSameBytesGiveTheSameFingerprint() throws IOException {
        Path in = dir.resolve("in");
        Files.createDirectories(in);
        try (Stream<Path> s = Files.list(TestData.demoModel())) {
            for (Path f : s.filter(Files::isRegularFile).toList()) Files.copy(f, in.resolve(f.getFileName()));
        }
        InputFingerprint before = InputFingerprint.of(in);
        assertNull(InputFingerprint.of(in).differenceFrom(before), "same bytes, same fingerprint");
        assertEquals(5, before.blocks().size(), "stories260K has 5 blocks");

        Path weights = in.resolve("model.safetensors");
        long size = Files.size(weights);
        try (RandomAccessFile f = new RandomAccessFile(weights.toFile(), "rw")) {
            f.seek(size - 1); // the last tensor's last byte: data, not header
            int b = f.read();
            f.seek(size - 1);
            f.write(b ^ 1);
        }
        InputFingerprint after = InputFingerprint.of(in);
        assertEquals(before.files(), after.files(), "names, sizes and headers are unchanged");
        String why = after.differenceFrom(before);
        assertNotEquals(null, why);
        assertTrue(why.matches("block \\d's tensors in IN changed since the interrupted run|IN's embeddings, final norm or LM head changed since the interrupted run"), why);
    }
}
