package dev.shrink4j.train;

import dev.shrink4j.model.CheckpointConfig;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.CheckpointWriter;
import dev.shrink4j.tensors.io.Json;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * A training checkpoint in the Hugging Face layout: {@code config.json}, {@code model.safetensors}
 * (F32 master weights; factored linears as {@code .lr_a/.lr_b/.cols/.col_values} named in the
 * config's {@code shrink4j.tensors}), the tokenizer files, {@code trainer_state.json} (step, tokens,
 * options, loss history) and {@code optimizer.bin} (AdamW moments m then v per tensor, F32
 * little-endian, in the state's order, CRC-32 in the state). Written through {@link CheckpointWriter}:
 * a hidden temporary directory renamed into place, so a kill -9 leaves either the whole checkpoint or
 * none.
 */
public final class TrainCheckpoint {
    static final String STATE = "trainer_state.json";
    static final String OPTIMIZER = "optimizer.bin";
    static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json");

    /** What a checkpoint restores besides the weights. */
    public record State(long step, long tokens, double seconds, Map<String, Object> options, List<Map<String, Object>> history) {}

    private TrainCheckpoint() {}

    /**
     * Writes {@code dir}. {@code moments} (name → {m, v}) may be null for a final model without
     * optimizer state. {@code tokenizerDir} (nullable) supplies the tokenizer files.
     */
    public static Path write(Path dir, TrainableModel model, Map<String, float[][]> moments, State state, Path tokenizerDir, DType dtype) {
        CheckpointWriter.Options opts = CheckpointWriter.Options.defaults().withForce(true);
        try (CheckpointWriter w = CheckpointWriter.create(dir, opts); Arena arena = Arena.ofConfined()) {
            for (String name : model.names()) {
                Tensor t = Tensor.ofFloats(arena, Shape.of(model.shape(name)), model.parameters().get(name));
                w.add(name, dtype == DType.F32 ? t : t.convert(arena, dtype));
                String module = name.endsWith(".lr_b") ? name.substring(0, name.length() - ".lr_b".length()) : null;
                int[] cols = module == null ? null : model.columnIds().get(module + ".cols");
                if (cols != null) {
                    Tensor ids = Tensor.allocate(arena, DType.I32, Shape.of(cols.length));
                    MemorySegment.copy(cols, 0, ids.segment(), Tensor.I32, 0, cols.length);
                    w.add(module + ".cols", ids);
                }
            }
            Map<String, Object> config = new LinkedHashMap<>(model.configJson());
            config.put("torch_dtype", dtype == DType.BF16 ? "bfloat16" : dtype == DType.F16 ? "float16" : "float32");
            w.writeFile("config.json", CheckpointConfig.toJson(config));
            if (tokenizerDir != null) {
                for (String f : TOKENIZER_FILES) {
                    if (Files.isRegularFile(tokenizerDir.resolve(f))) w.copyFile(tokenizerDir.resolve(f));
                }
            }
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("step", state.step());
            s.put("tokens", state.tokens());
            s.put("seconds", state.seconds());
            s.put("options", state.options());
            if (moments != null) {
                byte[] bytes = momentBytes(model, moments);
                CRC32 crc = new CRC32();
                crc.update(bytes);
                s.put("optimizer", Map.of("file", OPTIMIZER, "bytes", bytes.length, "crc32", crc.getValue(), "tensors", model.names()));
                w.writeFile(OPTIMIZER, bytes);
            }
            s.put("history", state.history());
            w.writeFile(STATE, Json.write(s, 1) + "\n");
            return w.commit();
        }
    }

    private static byte[] momentBytes(TrainableModel model, Map<String, float[][]> moments) {
        long total = 0;
        for (String n : model.names()) total += 8L * model.parameters().get(n).length;
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(total)).order(ByteOrder.LITTLE_ENDIAN);
        for (String n : model.names()) {
            for (float[] part : moments.get(n)) {
                buf.asFloatBuffer().put(part);
                buf.position(buf.position() + 4 * part.length);
            }
        }
        return buf.array();
    }

    /** The newest complete {@code checkpoint-<step>} under {@code out}, or null. */
    public static Path latest(Path out) {
        if (!Files.isDirectory(out)) return null;
        Path best = null;
        long bestStep = -1;
        try (var s = Files.list(out)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                if (!n.startsWith("checkpoint-") || !Files.isRegularFile(p.resolve(STATE))) continue;
                try {
                    long step = Long.parseLong(n.substring("checkpoint-".length()));
                    if (step > bestStep) {
                        bestStep = step;
                        best = p;
                    }
                } catch (NumberFormatException e) {
                    // not ours
                }
            }
        } catch (IOException e) {
            throw new ShrinkException(out + ": " + e.getMessage(), e);
        }
        return best;
    }

    /** A restored checkpoint: the model (F32 copies), AdamW moments by name, and the state. */
    public record Restored(TrainableModel model, Map<String, float[][]> moments, State state) {}

    public static Restored read(Path dir) {
        Map<String, Object> config = CheckpointConfig.read(dir);
        Map<String, Object> s = readJson(dir.resolve(STATE));
        Map<String, float[]> params = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, int[]> columns = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            Checkpoint ckpt = Checkpoint.open(dir, arena);
            for (String name : ckpt.names()) {
                Tensor t = ckpt.tensor(name);
                if (t.dtype() == DType.I32) {
                    columns.put(name, t.segment().toArray(java.lang.foreign.ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN)));
                } else {
                    params.put(name, t.toFloatArray());
                    shapes.put(name, t.shape().dims());
                }
            }
        }
        // Checkpoint order is the writer's order only within a shard; the state's list is the trainer's.
        Map<String, float[][]> moments = null;
        List<String> order = new ArrayList<>(params.keySet());
        if (s.get("optimizer") instanceof Map<?, ?> opt) {
            order = new ArrayList<>();
            for (Object o : (List<?>) opt.get("tensors")) order.add((String) o);
            moments = readMoments(dir.resolve(OPTIMIZER), opt, order, params);
        }
        Map<String, float[]> ordered = new LinkedHashMap<>();
        Map<String, long[]> orderedShapes = new LinkedHashMap<>();
        for (String n : order) {
            if (!params.containsKey(n)) throw new ShrinkException(dir + ": optimizer state names " + n + ", which the checkpoint lacks");
            ordered.put(n, params.get(n));
            orderedShapes.put(n, shapes.get(n));
        }
        TrainableModel model = new TrainableModel(config, ordered, orderedShapes, columns);
        @SuppressWarnings("unchecked")
        Map<String, Object> options = (Map<String, Object>) s.get("options");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> history = new ArrayList<>((List<Map<String, Object>>) s.get("history"));
        State state = new State(((Number) s.get("step")).longValue(), ((Number) s.get("tokens")).longValue(), ((Number) s.get("seconds")).doubleValue(),
                options, history);
        return new Restored(model, moments, state);
    }

    private static Map<String, float[][]> readMoments(Path file, Map<?, ?> opt, List<String> order, Map<String, float[]> params) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ShrinkException(file + ": " + e.getMessage(), e);
        }
        CRC32 crc = new CRC32();
        crc.update(bytes);
        if (bytes.length != ((Number) opt.get("bytes")).longValue() || crc.getValue() != ((Number) opt.get("crc32")).longValue()) {
            throw new ShrinkException(file + ": size or CRC-32 does not match " + STATE + " (damaged checkpoint)");
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, float[][]> moments = new LinkedHashMap<>();
        for (String n : order) {
            int len = params.get(n).length;
            float[] m = new float[len];
            float[] v = new float[len];
            buf.asFloatBuffer().get(m);
            buf.position(buf.position() + 4 * len);
            buf.asFloatBuffer().get(v);
            buf.position(buf.position() + 4 * len);
            moments.put(n, new float[][] {m, v});
        }
        return moments;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> readJson(Path file) {
        try {
            return (Map<String, Object>) Json.parse(Files.readString(file));
        } catch (IOException | Json.JsonException | ClassCastException e) {
            throw new ShrinkException(file + ": " + e.getMessage());
        }
    }
}
