package dev.shrink4j.tensors.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which hidden temporary directories beside OUT a later run removes (docs/reliability.md). */
class AbandonedOutputsTest {
    @TempDir
    Path dir;

    /** A pid that no process has: the largest pid Linux hands out is 2^22. */
    private static final long GONE = 4_194_303L + 1;

    @Test
    void aDirectoryKilledBeforeItsOwnerFileIsRecognisedByThePidInItsName() throws IOException {
        Path out = dir.resolve("out");
        Path killedUnclaimed = Files.createDirectory(dir.resolve(".out.tmp-" + GONE + "-123"));
        Path killedScratch = Files.createDirectory(dir.resolve(".out.tmp-scratch-" + GONE));
        Path mine = Files.createDirectory(dir.resolve(".out.tmp-" + ProcessHandle.current().pid() + "-9"));
        Path unnamed = Files.createDirectory(dir.resolve(".out.tmp-notapid"));
        Path otherOutput = Files.createDirectory(dir.resolve(".other.tmp-" + GONE + "-1"));

        List<Path> removed = AbandonedOutputs.remove(out);

        assertEquals(2, removed.size(), removed.toString());
        assertFalse(Files.exists(killedUnclaimed));
        assertFalse(Files.exists(killedScratch));
        assertTrue(Files.exists(mine), "a running owner's directory is left alone");
        assertTrue(Files.exists(unnamed), "a directory naming no owner is left alone");
        assertTrue(Files.exists(otherOutput), "another output's directory is not this run's business");
    }

    @Test
    void aClaimedDirectoryIsLeftWhileItsOwnerRunsAndRemovedWhenTheOwnerFileNamesAGoneProcess() throws IOException {
        Path out = dir.resolve("out");
        Path live = AbandonedOutputs.createTempDirectory(out, "");
        assertTrue(live.getFileName().toString().startsWith(".out.tmp-" + ProcessHandle.current().pid() + "-"), live.toString());
        assertTrue(Files.exists(live.resolve(AbandonedOutputs.OWNER_FILE)));

        Path dead = Files.createDirectory(dir.resolve(".out.tmp-" + ProcessHandle.current().pid() + "-7"));
        String host = Files.readString(live.resolve(AbandonedOutputs.OWNER_FILE)).strip().split(" ")[2];
        Files.writeString(dead.resolve(AbandonedOutputs.OWNER_FILE), GONE + " 2026-01-01T00:00:00Z " + host + "\n");

        assertEquals(List.of(dead), AbandonedOutputs.remove(out), "the owner file decides over the name");
        assertTrue(Files.exists(live));
    }
}
