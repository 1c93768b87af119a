package dev.shrink4j.quantize;

import dev.shrink4j.model.CompressedLinear;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes a quantized checkpoint in the {@code shrink4j} or {@code dense} format while quantization
 * runs: each compressed linear goes to disk when {@link #add} is called (its memory may be freed right
 * after), {@link #commit} copies the input tensors that were not replaced (embeddings, norms, LM head)
 * in input order, writes {@code config.json} and the side files, verifies and moves the directory into
 * place. Until then everything lives in a hidden temporary sibling of the output; closing without
 * committing removes it, so a failed run leaves no half-written output. The input is only read; it
 * may itself be compressed, then each module's old tensors ({@code .qweight}, {@code .scales}, …) are
 * replaced, and its structural {@code shrink4j} entries (per-layer widths, removed attention) kept.
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
    private final Map<String, Object> inputCompressed; // module → descriptor of the linears the input already holds compressed
    private boolean committed;

    private QuantizedCheckpointWriter(Arena arena, Checkpoint in, OutputFormat format, Map<String, Object> config,
                                      Map<String, Object> provenance, CheckpointWriter writer) {
        this.arena = arena;
        this.in = in;
        this.format = format;
        this.config = config;
        this.provenance = provenance;
        this.writer = writer;
        this.inputCompressed = config.get("shrink4j") instanceof Map<?, ?> sh && sh.get("tensors") instanceof Map<?, ?> t
                ? Map.copyOf(castMap(t)) : Map.of();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Map<?, ?> m) {
        return (Map<String, Object>) m;
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
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The input checkpoint's tensor names, in its order. */
    public List<String> inputNames() {
        return in.names();
    }

    /**
     * The module ({@code model.layers.i.mlp.down_proj}) whose stored weight input tensor {@code name}
     * is: a dense {@code .weight}, or one of the tensors of a linear the input already holds compressed;
     * null for anything else (embeddings, norms, biases).
     */
    public String moduleOf(String name) {
        if (name.endsWith(".weight") && !name.endsWith("layernorm.weight") && !name.equals("model.norm.weight")) {
            return name.substring(0, name.length() - ".weight".length());
        }
        int dot = name.lastIndexOf('.');
        return dot > 0 && inputCompressed.containsKey(name.substring(0, dot)) ? name.substring(0, dot) : null;
    }

    /**
     * Writes one compressed linear ({@code model.layers.i.mlp.down_proj}) in place of its input weight:
     * the dense {@code .weight}, or, for a compressed input, every tensor of the module's old format.
     */
    public void add(String module, CompressedWeight cw) {
        List<String> old = inputTensorsOf(module);
        if (old.isEmpty()) throw new IllegalArgumentException("the input checkpoint " + in.directory() + " has no weight for " + module);
        for (String name : old) {
            if (!replaced.add(name)) throw new IllegalArgumentException(module + " written twice");
        }
        if (format == OutputFormat.SHRINK4J) {
            for (Map.Entry<String, Tensor> e : new TreeMap<>(cw.toTensors(module)).entrySet()) writer.add(e.getKey(), e.getValue());
            tensorsBlock.put(module, cw.descriptor());
        } else {
            DType dtype = denseType(module);
            try (Arena tmp = Arena.ofConfined()) {
                Tensor f32 = new CompressedLinear(cw, null).weight(tmp); // Ŵ dequantized, F32
                writer.add(module + ".weight", dtype == DType.F32 ? f32 : f32.convert(tmp, dtype));
            }
        }
    }

    /** The input tensors that hold {@code module}'s weight, in input order. */
    private List<String> inputTensorsOf(String module) {
        if (in.find(module + ".weight").isPresent()) return List.of(module + ".weight");
        if (!inputCompressed.containsKey(module)) return List.of();
        List<String> names = new ArrayList<>();
        for (String n : in.names()) {
            if (n.startsWith(module + ".") && !n.equals(module + ".bias")) names.add(n);
        }
        return names;
    }

    /** The dtype of a dense output weight: the input's, or, where the input was compressed, its embedding's. */
    private DType denseType(String module) {
        return in.find(module + ".weight").or(() -> in.find("model.embed_tokens.weight")).map(Tensor::dtype).orElse(DType.F32);
    }

    /** Copies the input tensor {@code name} unchanged (at this point in the output's tensor order). */
    public void copy(String name) {
        if (!replaced.add(name)) throw new IllegalArgumentException(name + " written twice");
        writer.add(name, in.tensor(name));
    }

    /** Copies every input tensor not yet written, writes config and side files, and moves the output into place. */
    public Path commit() throws IOException {
        keepInputHeadTables();
        for (String name : in.names()) {
            if (!replaced.contains(name)) writer.add(name, in.tensor(name));
        }
        // The input's structural entries (per-layer widths, removed attention) stay; its tensors and
        // provenance describe the input and are replaced.
        Map<String, Object> block = new LinkedHashMap<>();
        block.put("format_version", 1);
        if (config.get("shrink4j") instanceof Map<?, ?> old) {
            for (Map.Entry<?, ?> e : old.entrySet()) {
                String k = (String) e.getKey();
                if (!k.equals("tensors") && !k.equals("provenance") && !k.equals("format_version")) block.put(k, e.getValue());
            }
        }
        if (format == OutputFormat.SHRINK4J) {
            block.put("tensors", tensorsBlock);
            block.put("provenance", withEffectiveGroupSize(provenance));
        }
        if (block.size() > 1) config.put("shrink4j", block);
        else config.remove("shrink4j");
        writer.writeFile("config.json", dev.shrink4j.model.CheckpointConfig.toJson(config));
        QuantizedCheckpoint.copySideFiles(in.directory(), writer);
        Path p = writer.commit();
        committed = true;
        return p;
    }

    /**
     * A compressed input's quantized head or embedding table that this run did not quantize again: its
     * tensors are copied as they are, so the shrink4j output keeps its descriptor; a dense output gets it
     * dequantized, like every other weight.
     */
    private void keepInputHeadTables() {
        for (String module : List.of(HeadQuantizer.HEAD, HeadQuantizer.EMBEDDING)) {
            if (!inputCompressed.containsKey(module) || tensorsBlock.containsKey(module) || inputTensorsOf(module).stream().anyMatch(replaced::contains)) continue;
            if (format == OutputFormat.SHRINK4J) {
                tensorsBlock.put(module, inputCompressed.get(module));
            } else {
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                for (String n : inputTensorsOf(module)) tensors.put(n, in.tensor(n));
                @SuppressWarnings("unchecked")
                Map<String, Object> descriptor = (Map<String, Object>) inputCompressed.get(module);
                add(module, dev.shrink4j.tensors.formats.Formats.fromTensors(module, descriptor, tensors));
            }
        }
    }

    /**
     * The provenance with {@code parameters.effective_group_size}: the group size the uniform linears
     * store (a group size at least d_in is stored as d_in), one number when all agree, else by d_in.
     */
    private Map<String, Object> withEffectiveGroupSize(Map<String, Object> provenance) {
        Map<Long, Object> byDIn = new TreeMap<>();
        for (Map.Entry<String, Object> e : tensorsBlock.entrySet()) {
            // The head and the embedding have their own group size (HeadOptions), recorded in provenance.head.
            if (e.getKey().equals(HeadQuantizer.HEAD) || e.getKey().equals(HeadQuantizer.EMBEDDING)) continue;
            if (e.getValue() instanceof Map<?, ?> m && m.get("group_size") instanceof Number g && m.get("shape") instanceof List<?> shape) {
                byDIn.put(((Number) shape.get(1)).longValue(), g.longValue());
            }
        }
        if (provenance == null || byDIn.isEmpty()) return provenance;
        Map<String, Object> p = new LinkedHashMap<>(provenance);
        Object effective;
        if (byDIn.values().stream().distinct().count() == 1) {
            effective = byDIn.values().iterator().next();
        } else {
            Map<String, Object> m = new LinkedHashMap<>();
            byDIn.forEach((dIn, g) -> m.put("d_in " + dIn, g));
            effective = m;
        }
        if (p.get("parameters") instanceof Map<?, ?> params) {
            @SuppressWarnings("unchecked")
            Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) params);
            copy.put("effective_group_size", effective);
            p.put("parameters", copy);
        } else {
            p.put("effective_group_size", effective);
        }
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
