package dev.shrink4j.tensors.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsHeadersTest {
    @TempDir
    Path dir;

    @Test
    void sizesFromHeadersEqualTheStrictReaders() {
        Map<String, Long> sizes = SafetensorsHeaders.tensorBytes(TestData.demoModel());
        try (Arena arena = Arena.ofConfined()) {
            Checkpoint c = Checkpoint.open(TestData.demoModel(), arena);
            assertEquals(c.names().size(), sizes.size());
            for (String name : c.names()) assertEquals(c.info(name).byteSize(), sizes.get(name), name);
        }
    }

    @Test
    void aBrokenHeaderIsOneClearError() throws IOException {
        Files.write(dir.resolve("model.safetensors"), new byte[] {9, 0, 0, 0, 0, 0, 0, 0, '{', 'x', ':', '}', ' ', ' ', ' ', ' ', ' '});
        ShrinkException e = assertThrows(ShrinkException.class, () -> SafetensorsHeaders.tensorBytes(dir));
        assertTrue(e.getMessage().contains("model.safetensors: malformed safetensors header"), e.getMessage());
    }
}
