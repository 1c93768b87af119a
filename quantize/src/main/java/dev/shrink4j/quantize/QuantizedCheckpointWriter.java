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
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes a quantized checkpoint in the {@code shrink4j} or {@code dense} format while quantization
 * runs: each compressed linear goes to disk when {@link #add} is called (its memory may be freed right
 * after), {@link #commit} copies the input tensors that were not replaced (embeddings, norms, LM head)
 * in input order, writes {@code config.json} and the side files, verifies and moves the directory into
 * place. Until then everything lives in a hidden temporary sibling of the output; closing without
 * committing removes it, so a failed run leaves no half-written output. The input is only read.
 *
 * <pre>{@code
 * try (var out = QuantizedCheckpointWriter.open(in, OutputFormat.SHRINK4J, dir, false, provenance)) {
 *     new Quantizer(options, arena).writingTo(out::add).run(model, calibration, listener);
 *     out.commit();
 * }
 * }</pre>
 */
public final class QuantizedCheckpointWriter implements AutoCloseable {
    private final Arena arena;
    private final Checkpoint in;
    private final OutputFormat format;
    private final Map<String, Object> config;
    private final Map<String, Object> provenance;
    private final CheckpointWriter writer;
    private final Map<String, Object> tensorsBlock = new LinkedHashMap<>();
    private final Set<String> replaced = new HashSet<>();
    private boolean committed;

    private QuantizedCheckpointWriter(Arena arena, Checkpoint in, OutputFormat format, Map<String, Object> config,
                                      Map<String, Object> provenance, CheckpointWriter writer) {
        this.arena = arena;
        this.in = in;
        this.format = format;
        this.config = config;
        this.provenance = provenance;
        this.writer = writer;
    }

    /**
     * Starts the output; fails at once if {@code out} exists (and {@code force} is off) or is the input.
     *
     * @param format {@code shrink4j} or {@code dense}; {@code jlama-q4} is written whole by {@link QuantizedCheckpoint#write}
     */
    public static QuantizedCheckpointWriter open(Path input, OutputFormat format, Path out, boolean force,
                                                 Map<String, Object> provenance) throws IOException {
        if (format == OutputFormat.JLAMA_Q4) {
            throw new IllegalArgumentException("jlama-q4 is written in one piece (its Q4 dtype needs a custom header): use QuantizedCheckpoint.write");
        }
        if (out.toAbsolutePath().normalize().equals(input.toAbsolutePath().normalize())) {
            throw new ShrinkException(out + ": the output must not be the input checkpoint");
        }
        Arena arena = Arena.ofShared();
        try {
            Checkpoint in = Checkpoint.open(input, arena);
            Map<String, Object> config = QuantizedCheckpoint.readConfig(in.directory());
            CheckpointWriter w = CheckpointWriter.create(out, CheckpointWriter.Options.defaults().withForce(force));
            return new QuantizedCheckpointWriter(arena, in, format, config, provenance, w);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The input checkpoint's tensor names, in its order. */
    public java.util.List<String> inputNames() {
        return in.names();
    }

    /** Writes one compressed linear ({@code model.layers.i.mlp.down_proj}) in place of its input weight. */
    public void add(String module, CompressedWeight cw) {
        String name = module + ".weight";
        Tensor original = in.find(name).orElseThrow(() -> new IllegalArgumentException("the input checkpoint has no tensor " + name));
        if (!replaced.add(name)) throw new IllegalArgumentException(module + " written twice");
        if (format == OutputFormat.SHRINK4J) {
            for (Map.Entry<String, Tensor> e : new TreeMap<>(cw.toTensors(module)).entrySet()) writer.add(e.getKey(), e.getValue());
            tensorsBlock.put(module, cw.descriptor());
        } else {
            DType dtype = original.dtype();
            try (Arena tmp = Arena.ofConfined()) {
                Tensor f32 = new CompressedLinear(cw, null).weight(tmp); // Ŵ dequantized, F32
                writer.add(name, dtype == DType.F32 ? f32 : f32.convert(tmp, dtype));
            }
        }
    }

    /** Copies the input tensor {@code name} unchanged (at this point in the output's tensor order). */
    public void copy(String name) {
        if (!replaced.add(name)) throw new IllegalArgumentException(name + " written twice");
        writer.add(name, in.tensor(name));
    }

    /** Copies every input tensor not yet written, writes config and side files, and moves the output into place. */
    public Path commit() throws IOException {
        for (String name : in.names()) {
            if (!replaced.contains(name)) writer.add(name, in.tensor(name));
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
        writer.writeFile("config.json", Json.write(config, 2) + "\n");
        QuantizedCheckpoint.copySideFiles(in.directory(), writer);
        Path p = writer.commit();
        committed = true;
        return p;
    }

    /** True once {@link #commit} succeeded. */
    public boolean committed() {
        return committed;
    }

    @Override
    public void close() {
        try {
            writer.close();
        } finally {
            arena.close();
        }
    }
}
