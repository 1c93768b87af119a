package dev.shrink4j.quantize;

import dev.shrink4j.model.CompressedLinear;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.CheckpointWriter;
import dev.shrink4j.tensors.io.Json;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Writes a quantized model next to its input (never over it) in one of the {@link OutputFormat}s,
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
        try (Arena arena = Arena.ofShared()) {
            Checkpoint in = Checkpoint.open(input, arena);
            Map<String, Object> config = readConfig(in.directory());
            if (format == OutputFormat.JLAMA_Q4) {
                JlamaQ4Writer.write(in, weights, config, out, force, notes);
                return notes;
            }
            Map<String, Object> tensorsBlock = new LinkedHashMap<>();
            try (CheckpointWriter w = CheckpointWriter.create(out, CheckpointWriter.Options.defaults().withForce(force))) {
                for (String name : in.names()) {
                    String module = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : null;
                    CompressedWeight cw = module == null ? null : weights.get(module);
                    if (cw == null) {
                        w.add(name, in.tensor(name));
                    } else if (format == OutputFormat.SHRINK4J) {
                        for (Map.Entry<String, Tensor> e : new TreeMap<>(cw.toTensors(module)).entrySet()) w.add(e.getKey(), e.getValue());
                        tensorsBlock.put(module, cw.descriptor());
                    } else {
                        DType dtype = in.tensor(name).dtype();
                        try (Arena tmp = Arena.ofConfined()) {
                            Tensor f32 = new CompressedLinear(cw, null).weight(tmp); // Ŵ dequantized, F32
                            w.add(name, dtype == DType.F32 ? f32 : f32.convert(tmp, dtype));
                        }
                    }
                }
                if (format == OutputFormat.SHRINK4J) {
                    Map<String, Object> block = new LinkedHashMap<>();
                    block.put("format_version", 1);
                    block.put("tensors", tensorsBlock);
                    block.put("provenance", provenance);
                    config.put("shrink4j", block);
                } else {
                    config.remove("shrink4j");
                }
                w.writeFile("config.json", Json.write(config, 2) + "\n");
                copySideFiles(in.directory(), w);
                w.commit();
            }
        }
        return notes;
    }

    static Map<String, Object> readConfig(Path dir) throws IOException {
        Path cfg = dir.resolve("config.json");
        if (!Files.exists(cfg)) throw new ShrinkException(dir + ": no config.json");
        if (Json.parse(Files.readString(cfg)) instanceof Map<?, ?> m) {
            @SuppressWarnings("unchecked")
            Map<String, Object> map = new LinkedHashMap<>((Map<String, Object>) m);
            return map;
        }
        throw new ShrinkException(cfg + ": not a JSON object");
    }

    static void copySideFiles(Path dir, CheckpointWriter w) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.sorted().toList()) {
                if (Files.isRegularFile(p) && !regenerated(p.getFileName().toString())) w.copyFile(p);
            }
        }
    }
}
