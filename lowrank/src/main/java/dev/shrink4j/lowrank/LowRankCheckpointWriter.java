package dev.shrink4j.lowrank;

import dev.shrink4j.model.CheckpointConfig;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The output side of {@link CheckpointLowRank}: copies every tensor that is not factorized (streamed
 * from the mapped input), adds each factorized linear as it is produced, and at the end writes
 * config.json with the {@code shrink4j} block (format version, per-module descriptors, provenance;
 * DESIGN "The shrink4j checkpoint") plus the tokenizer and other side files. Atomic: nothing
 * appears at the output path unless {@link #commit} succeeds.
 */
final class LowRankCheckpointWriter implements AutoCloseable {
    private static final Set<String> SIDE_FILES_SKIPPED = Set.of("config.json", Checkpoint.INDEX_FILE);

    private final Checkpoint input;
    private final CheckpointLowRank.Options options;
    private final CheckpointWriter writer;
    private final Map<String, Object> descriptors = new LinkedHashMap<>();
    private final Map<String, Object> config;
    private long denseParams;
    private long params;
    private int linears;

    /** @param factorized weight names ({@code ….weight}) that will be replaced, not copied */
    LowRankCheckpointWriter(Checkpoint input, Path out, CheckpointLowRank.Options options, Set<String> factorized) {
        this.input = input;
        this.options = options;
        this.config = CheckpointConfig.read(input.directory());
        this.writer = CheckpointWriter.create(out, CheckpointWriter.Options.defaults().withForce(options.force()));
        for (String name : input.names()) {
            if (!factorized.contains(name)) writer.add(name, input.tensor(name));
        }
    }

    /**
     * Encodes and writes one factorized linear; its tensors live in {@code arena}, which the caller
     * may close once this returns unless it keeps the returned weight.
     */
    CompressedWeight add(String module, LowRankCompressor.Result r, DType weightType, Arena arena) {
        DType type = options.factorType() != null ? options.factorType() : weightType;
        CompressedWeight w = options.output().encode(arena, r, type);
        w.toTensors(module).forEach(writer::add);
        if (options.output() == LowRankFormat.SHRINK4J) descriptors.put(module, w.descriptor());
        denseParams += (long) r.lowRank().dOut() * r.lowRank().dIn();
        params += r.params();
        linears++;
        return w;
    }

    /** Resume: writes a linear an interrupted run factorized and stored ({@code w} as {@link #add} encoded it). */
    void addStored(String module, CompressedWeight w, long denseValues, long storedValues) {
        w.toTensors(module).forEach(writer::add);
        if (options.output() == LowRankFormat.SHRINK4J) descriptors.put(module, w.descriptor());
        denseParams += denseValues;
        params += storedValues;
        linears++;
    }

    CheckpointLowRank.Summary commit(int blocks) {
        Map<String, Object> s4j = new LinkedHashMap<>();
        s4j.put("format_version", 1);
        s4j.put("tensors", descriptors);
        s4j.put("provenance", options.provenance());
        config.put("shrink4j", s4j);
        writer.writeFile("config.json", CheckpointConfig.toJson(config));
        copySideFiles(input.directory());
        Path written = writer.commit();
        return new CheckpointLowRank.Summary(written, blocks, linears, denseParams, params, safetensorsBytes(written));
    }

    @Override
    public void close() {
        writer.close();
    }


    /** Tokenizer, generation config, license: every regular file that is not weights or config. */
    private void copySideFiles(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                String n = f.getFileName().toString();
                if (Files.isRegularFile(f) && !n.endsWith(".safetensors") && !SIDE_FILES_SKIPPED.contains(n) && !n.startsWith(".")) {
                    writer.copyFile(f);
                }
            }
        } catch (IOException e) {
            throw new ShrinkException(dir + ": cannot list side files: " + e.getMessage(), e);
        }
    }

    private static long safetensorsBytes(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            long sum = 0;
            for (Path f : files.toList()) if (f.getFileName().toString().endsWith(".safetensors")) sum += Files.size(f);
            return sum;
        } catch (IOException e) {
            return -1;
        }
    }
}
