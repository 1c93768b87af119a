package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.io.AbandonedOutputs;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScratchDirectoryTest {
    @TempDir Path dir;

    @Test
    void isClaimedBesideOutAndRemovedWhenClosed() throws Exception {
        Path out = dir.resolve("out");
        Path scratchPath;
        try (ScratchDirectory s = ScratchDirectory.beside(out)) {
            scratchPath = s.path();
            assertEquals(".out.tmp-scratch-" + ProcessHandle.current().pid(), scratchPath.getFileName().toString());
            assertTrue(Files.exists(scratchPath.resolve(AbandonedOutputs.OWNER_FILE)));
            Files.write(scratchPath.resolve(".shrink4j-scratch-1.f32"), new byte[16]);
            // Ours while we run: a concurrent run for the same OUT must not take it.
            assertFalse(AbandonedOutputs.abandoned(scratchPath));
            assertTrue(AbandonedOutputs.remove(out).isEmpty());
        }
        assertFalse(Files.exists(scratchPath));
    }

    @Test
    void aKilledRunsScratchIsRemovedByTheNextRunForTheSameOut() throws Exception {
        Path out = dir.resolve("out");
        Path left = dir.resolve(".out.tmp-scratch-999999999");
        Files.createDirectories(left);
        Files.write(left.resolve(".shrink4j-scratch-1.f32"), new byte[16]);
        // The owner line of a process that is gone (pid beyond pid_max), on this host.
        String host = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        Files.writeString(left.resolve(AbandonedOutputs.OWNER_FILE), "999999999 2026-01-01T00:00:00Z " + host + "\n");
        assertEquals(java.util.List.of(left), AbandonedOutputs.remove(out));
        assertFalse(Files.exists(left));
    }
}
