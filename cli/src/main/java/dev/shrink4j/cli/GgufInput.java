package dev.shrink4j.cli;

import dev.shrink4j.model.gguf.LlamaGgufImport;
import dev.shrink4j.tensors.ShrinkException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A {@code .gguf} file given where a checkpoint directory is expected (IN, {@code --model}): it is
 * converted once per process into a hidden Hugging Face directory under the temp folder (F32/F16/BF16
 * tensors copied bit for bit, block types dequantized to F32) which is deleted when the JVM exits.
 * Simple and exact, at the cost of disk (a dequantized copy); a mapped, per-block reader is future work.
 */
final class GgufInput {
    private static final Map<Path, Path> CONVERTED = new HashMap<>();

    private GgufInput() {}

    static synchronized Path asCheckpointDir(String label, Path gguf) {
        Path key = gguf.toAbsolutePath().normalize();
        Path done = CONVERTED.get(key);
        if (done != null) return done;
        try {
            Path tmp = Files.createTempDirectory("shrink4j-gguf-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(tmp)));
            Path dir = LlamaGgufImport.write(gguf, tmp.resolve("checkpoint"), null, false).dir();
            CONVERTED.put(key, dir);
            return dir;
        } catch (IOException e) {
            throw new ShrinkException(label + " " + gguf + ": cannot create a temporary directory to read it: " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort: the temp folder is the system's to clean
        }
    }
}
