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
 * A {@code .gguf} file given as the input of a compression command (IN of quantize/prune/lowrank/run,
 * {@code --tokenizer}, …): it is converted once per process into a hidden Hugging Face directory under
 * the temp folder (F32/F16/BF16 tensors copied bit for bit, block types dequantized to F32) which is
 * deleted when the JVM exits. The compression commands read their input as a directory in several
 * places (calibration, resume fingerprints, the config beside the weights), so they keep this copy;
 * eval and generate read a GGUF in place ({@code GgufCheckpoint}, {@link Args#modelInput}).
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

    /** Whether {@code gguf} was converted in this process (tests: eval and generate must not). */
    static synchronized boolean wasConverted(Path gguf) {
        return CONVERTED.containsKey(gguf.toAbsolutePath().normalize());
    }

    private static void deleteTree(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort: the temp folder is the system's to clean
        }
    }
}
