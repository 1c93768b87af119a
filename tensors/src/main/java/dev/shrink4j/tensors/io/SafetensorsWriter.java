package dev.shrink4j.tensors.io;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/** Writes one standalone {@code .safetensors} file atomically (temp name, verify, rename). */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, boolean force) {
        Path target = file.toAbsolutePath().normalize();
        if (Files.exists(target) && !force) {
            throw new ShrinkException(target + ": output already exists (use --force to replace it)");
        }
        Path dir = target.getParent();
        Path tmpData = dir.resolve("." + target.getFileName() + ".data.tmp-" + ProcessHandle.current().pid());
        Path tmpFile = dir.resolve("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try (ShardWriter w = new ShardWriter(tmpData)) {
            tensors.forEach(w::add);
            w.finish(tmpFile, metadata);
            try {
                Files.move(tmpFile, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmpFile, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new ShrinkException(target + ": cannot write: " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(tmpFile);
            } catch (IOException ignored) {
                // best effort cleanup
            }
        }
    }
}
