package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
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
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Factorizes every linear of every decoder block of a checkpoint and writes a new checkpoint, one
 * block at a time (DESIGN "main flow"): the block's weights are widened to F32 in a confined arena,
 * compressed, streamed to the output and released. Weight-only methods read nothing but the
 * weights; calibrated ones take their statistics from a {@link BlockStatistics}.
 */
public final class CheckpointLowRank {
    /** Block linears: the 2-D weights under {@code model.layers.N.}. */
    private static final Pattern BLOCK_WEIGHT = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)\\.weight");
    private static final Set<String> SIDE_FILES_SKIPPED = Set.of("config.json", Checkpoint.INDEX_FILE);

    /**
     * @param output     compressed formats or merged dense weights
     * @param force      replace an existing output directory
     * @param factorType element type of factors and column values; null keeps each weight's own
     * @param provenance written under {@code shrink4j.provenance} in config.json
     */
    public record Options(LowRankFormat output, boolean force, DType factorType, Map<String, Object> provenance) {}

    /** One compressed linear, for progress and the report. */
    public record LinearRow(String module, int dOut, int dIn, int rank, int columns, long params, long denseParams,
                            double weightError, double outputError, double damping, double seconds) {}

    /** Totals of a run. */
    public record Summary(Path output, int blocks, int linears, long denseParams, long params, long outputBytes) {
        /** Achieved parameter ratio over the factorized linears. */
        public double ratio() {
            return denseParams == 0 ? 0 : (double) params / denseParams;
        }
    }

    /** Progress callbacks, called on the compressing thread. */
    public interface Listener {
        default void started(int blocks, int linears) {}

        default void linear(LinearRow row) {}

        default void blockDone(int block, int blocks) {}
    }

    private final LowRankCompressor compressor;

    public CheckpointLowRank(LowRankCompressor compressor) {
        this.compressor = compressor;
    }

    /**
     * @param stats statistics for calibrated methods; null for weight-only ones
     */
    public Summary run(Path in, Path out, Options options, BlockStatistics stats, Listener listener) {
        LowRankMethod method = compressor.settings().method();
        if (method.needsCalibration() && stats == null) {
            throw new ShrinkException("method " + method.cliName() + " needs calibration data (--calib)");
        }
        try (Arena mapped = Arena.ofShared()) {
            Checkpoint ckpt = Checkpoint.open(in, mapped);
            TreeMap<Integer, List<String>> blocks = blockLinears(ckpt);
            if (blocks.isEmpty()) throw new ShrinkException(in + ": no decoder-block linears (model.layers.N.*.weight) found");
            Map<String, Object> config = readConfig(ckpt.directory());
            int total = blocks.values().stream().mapToInt(List::size).sum();
            listener.started(blocks.size(), total);
            Map<String, Object> descriptors = new LinkedHashMap<>();
            long denseParams = 0, params = 0;
            int linears = 0;
            CheckpointWriter.Options wo = CheckpointWriter.Options.defaults().withForce(options.force());
            try (CheckpointWriter writer = CheckpointWriter.create(out, wo)) {
                Set<String> linearNames = new java.util.HashSet<>();
                blocks.values().forEach(l -> l.forEach(m -> linearNames.add(m + ".weight")));
                for (String name : ckpt.names()) {
                    if (!linearNames.contains(name)) writer.add(name, ckpt.tensor(name));
                }
                int done = 0;
                for (Map.Entry<Integer, List<String>> block : blocks.entrySet()) {
                    int layer = block.getKey();
                    List<List<String>> groups = stats != null ? stats.groups(layer) : List.of(block.getValue());
                    try (Arena arena = Arena.ofConfined()) {
                        for (List<String> group : groups) {
                            LinearStats s = stats != null ? stats.observe(layer, group, method) : null;
                            for (String module : group) {
                                long t0 = System.nanoTime();
                                Tensor wt = ckpt.tensor(module + ".weight");
                                int dOut = Math.toIntExact(wt.shape().dim(0)), dIn = Math.toIntExact(wt.shape().dim(1));
                                float[] w = wt.toFloatArray();
                                LowRankCompressor.Result r = compressor.compress(module, w, dOut, dIn, s);
                                if (stats != null) stats.install(layer, module, r.merged());
                                DType type = options.factorType() != null ? options.factorType() : wt.dtype();
                                LowRankFormat.Encoded enc = options.output().encode(arena, module, r, type);
                                enc.tensors().forEach(writer::add);
                                if (enc.descriptor() != null) descriptors.put(module, enc.descriptor());
                                long dense = (long) dOut * dIn;
                                denseParams += dense;
                                params += r.params();
                                linears++;
                                LostDecomposition lost = r.lost();
                                listener.linear(new LinearRow(module, dOut, dIn, r.lowRank().rank(), lost == null ? 0 : lost.columnCount(),
                                        r.params(), dense, r.weightError(), r.outputError(), r.damping(), (System.nanoTime() - t0) / 1e9));
                            }
                        }
                    }
                    if (stats != null) stats.finish(layer);
                    listener.blockDone(++done, blocks.size());
                }
                Map<String, Object> s4j = new LinkedHashMap<>();
                s4j.put("format_version", 1);
                s4j.put("tensors", descriptors);
                s4j.put("provenance", options.provenance());
                config.put("shrink4j", s4j);
                writer.writeFile("config.json", Json.write(config, 2) + "\n");
                copySideFiles(ckpt.directory(), writer);
                Path written = writer.commit();
                return new Summary(written, blocks.size(), linears, denseParams, params, directoryBytes(written));
            }
        }
    }

    /** Block index → its linear module names (weights without the {@code .weight} suffix), in name order. */
    static TreeMap<Integer, List<String>> blockLinears(Checkpoint ckpt) {
        TreeMap<Integer, List<String>> blocks = new TreeMap<>();
        for (String name : ckpt.names()) {
            Matcher m = BLOCK_WEIGHT.matcher(name);
            if (m.matches() && ckpt.info(name).shape().rank() == 2) {
                blocks.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new ArrayList<>()).add(name.substring(0, name.length() - ".weight".length()));
            }
        }
        return blocks;
    }

    static Map<String, Object> readConfig(Path dir) {
        Path cfg = dir.resolve("config.json");
        if (!Files.exists(cfg)) return new LinkedHashMap<>();
        try {
            if (Json.parse(Files.readString(cfg)) instanceof Map<?, ?> m) {
                @SuppressWarnings("unchecked")
                Map<String, Object> map = new LinkedHashMap<>((Map<String, Object>) m);
                return map;
            }
            throw new ShrinkException(cfg + ": not a JSON object");
        } catch (IOException e) {
            throw new ShrinkException(cfg + ": " + e.getMessage(), e);
        } catch (Json.JsonException e) {
            throw new ShrinkException(cfg + ": invalid JSON: " + e.getMessage());
        }
    }

    /** Tokenizer, generation config, license: every regular file that is not weights or config. */
    private static void copySideFiles(Path dir, CheckpointWriter writer) {
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

    private static long directoryBytes(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            long sum = 0;
            for (Path f : files.toList()) if (f.getFileName().toString().endsWith(".safetensors")) sum += Files.size(f);
            return sum;
        } catch (IOException e) {
            return -1;
        }
    }

    static Shape matrix(int rows, int cols) {
        return Shape.matrix(rows, cols);
    }
}
