package dev.shrink4j.quantize;

import dev.shrink4j.model.CheckpointConfig;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes a quantized model next to its input (never over it) in one of the {@link OutputFormat}s from
 * compressed weights held in memory ({@link QuantizedCheckpointWriter} streams them instead),
 * ({@code LlamaModel.load} reads the {@code shrink4j} format back). Every write is atomic
 * (a temporary directory moved into place after verification, by {@link CheckpointWriter}).
 */
public final class QuantizedCheckpoint {
    /** Files of the input that the writer regenerates instead of copying. */
    private static boolean regenerated(String name) {
        return name.endsWith(".safetensors") || name.equals(Checkpoint.INDEX_FILE) || name.equals("config.json");
    }

    private QuantizedCheckpoint() {}

    /**
     * @param input      the input checkpoint directory (read only)
     * @param weights    compressed linears by module name ({@code model.layers.i.mlp.down_proj})
     * @param provenance the {@code shrink4j.provenance} block (method, bits, calibration, …)
     * @return notes for the user (e.g. tensors a format could not hold and kept as F32)
     */
    public static List<String> write(Path input, Map<String, CompressedWeight> weights, OutputFormat format, Path out,
                                     boolean force, Map<String, Object> provenance) throws IOException {
        List<String> notes = new ArrayList<>();
        if (format == OutputFormat.JLAMA_Q4) {
            try (Arena arena = Arena.ofShared()) {
                Checkpoint in = Checkpoint.open(input, arena);
                JlamaQ4Writer.write(in, weights, readConfig(in.directory()), out, force, notes);
                return notes;
            }
        }
        // Input order: each replaced weight where the input had it.
        try (QuantizedCheckpointWriter w = QuantizedCheckpointWriter.open(input, format, out, force, provenance)) {
            java.util.Set<String> added = new java.util.HashSet<>();
            for (String name : w.inputNames()) {
                String module = w.moduleOf(name);
                CompressedWeight cw = module == null ? null : weights.get(module);
                if (cw == null) w.copy(name);
                else if (added.add(module)) w.add(module, cw); // a compressed input holds a module in several tensors
            }
            w.commit();
        }
        return notes;
    }

    static Map<String, Object> readConfig(Path dir) {
        if (!Files.exists(dir.resolve("config.json"))) throw new ShrinkException(dir + ": no config.json");
        return CheckpointConfig.read(dir);
    }

    static void copySideFiles(Path dir, CheckpointWriter w) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.sorted().toList()) {
                if (Files.isRegularFile(p) && !regenerated(p.getFileName().toString())) w.copyFile(p);
            }
        }
    }
}
