package dev.shrink4j.quantize;

import dev.shrink4j.model.CompressedLinear;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.JlamaQ4;
import dev.shrink4j.tensors.formats.UniformQuantized;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The {@code jlama-q4} output: one {@code model.safetensors} in which every symmetric int4 linear whose
 * groups are a multiple of 32 (and d_in too) is stored in jlama's Q4 layout ({@link JlamaQ4}: dtype
 * "Q4", F32 block scales in {@code <name>.qb}); other quantized linears are written dequantized as F32
 * and listed; everything else is copied. The safetensors header is written here because "Q4" is not a
 * standard dtype.
 */
final class JlamaQ4Writer {
    private record Entry(String name, String dtype, long[] shape, MemorySegment data) {}

    private JlamaQ4Writer() {}

    static void write(Checkpoint in, Map<String, CompressedWeight> weights, Map<String, Object> config, Path out,
                      boolean force, List<String> notes) throws IOException {
        Path target = out.toAbsolutePath().normalize();
        if (target.equals(in.directory().toAbsolutePath().normalize())) {
            throw new ShrinkException(out + ": the output must not be the input checkpoint");
        }
        if (Files.exists(target) && !force) {
            throw new ShrinkException(target + ": output already exists (use --force to replace it)");
        }
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        deleteTree(tmp);
        Files.createDirectories(tmp);
        try (Arena arena = Arena.ofConfined()) {
            List<Entry> entries = new ArrayList<>();
            // A compressed input holds a linear in several tensors (module.qweight, ...): the module's
            // new weight takes the place of the first, the others are dropped.
            java.util.Set<String> compressedInput = config.get("shrink4j") instanceof Map<?, ?> sh && sh.get("tensors") instanceof Map<?, ?> t
                    ? new java.util.HashSet<>(t.keySet().stream().map(String::valueOf).toList()) : java.util.Set.of();
            java.util.Set<String> done = new java.util.HashSet<>();
            for (String inName : in.names()) {
                int dot = inName.lastIndexOf('.');
                String module = inName.endsWith(".weight") ? inName.substring(0, inName.length() - ".weight".length())
                        : dot > 0 && compressedInput.contains(inName.substring(0, dot)) ? inName.substring(0, dot) : null;
                CompressedWeight cw = module == null ? null : weights.get(module);
                if (cw != null && !done.add(module)) continue;
                String name = cw == null ? inName : module + ".weight";
                if (cw == null) {
                    Tensor t = in.tensor(name);
                    entries.add(new Entry(name, t.dtype().safetensorsName(), t.shape().dims(), t.segment()));
                    continue;
                }
                UniformQuantized q = cw instanceof UniformQuantized u ? blocksOf32(arena, u) : null;
                if (q != null) {
                    Map<String, Tensor> t = JlamaQ4.export(arena, name, q);
                    entries.add(new Entry(name, JlamaQ4.SAFETENSORS_DTYPE, new long[] {q.dOut(), q.dIn()}, t.get(name).segment()));
                    Tensor qb = t.get(name + JlamaQ4.SCALE_SUFFIX);
                    entries.add(new Entry(name + JlamaQ4.SCALE_SUFFIX, "F32", qb.shape().dims(), qb.segment()));
                } else {
                    Tensor f32 = new CompressedLinear(cw, null).weight(arena); // Ŵ dequantized, F32
                    entries.add(new Entry(name, "F32", f32.shape().dims(), f32.segment()));
                    notes.add(name + " kept as F32 (dequantized): jlama Q4 needs symmetric int4 in groups of a multiple of 32 and d_in % 32 == 0 (d_in = " + cw.dIn() + ")");
                }
            }
            writeSafetensors(tmp.resolve(Checkpoint.SINGLE_FILE), entries);
            config.remove("shrink4j");
            Files.writeString(tmp.resolve("config.json"), dev.shrink4j.model.CheckpointConfig.toJson(config));
            try (Stream<Path> files = Files.list(in.directory())) {
                for (Path p : files.sorted().toList()) {
                    String f = p.getFileName().toString();
                    if (Files.isRegularFile(p) && !f.endsWith(".safetensors") && !f.equals(Checkpoint.INDEX_FILE) && !f.equals("config.json")) {
                        Files.copy(p, tmp.resolve(f));
                    }
                }
            }
            if (Files.exists(target)) deleteTree(target);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            }
        } finally {
            deleteTree(tmp);
        }
    }

    /** The weight regrouped to jlama's 32-element blocks (same codes, each scale repeated), or null if it cannot be. */
    static UniformQuantized blocksOf32(Arena arena, UniformQuantized u) {
        int g = u.groupSize();
        if (u.bits() != 4 || !u.symmetric() || u.gIdx() != null || u.dIn() % JlamaQ4.BLOCK != 0 || g % JlamaQ4.BLOCK != 0) {
            return null;
        }
        if (g == JlamaQ4.BLOCK) return u;
        int dOut = u.dOut(), dIn = u.dIn(), blocks = dIn / JlamaQ4.BLOCK;
        int[] codes = new int[dOut * dIn];
        float[] scales = new float[dOut * blocks];
        for (int j = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) codes[j * dIn + i] = u.code(j, i);
            for (int b = 0; b < blocks; b++) scales[j * blocks + b] = u.scale(j, b * JlamaQ4.BLOCK / g);
        }
        return UniformQuantized.of(arena, dOut, dIn, 4, JlamaQ4.BLOCK, codes, scales, null, null);
    }

    private static void writeSafetensors(Path file, List<Entry> entries) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        long offset = 0;
        for (Entry e : entries) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("dtype", e.dtype());
            List<Long> shape = new ArrayList<>();
            for (long d : e.shape()) shape.add(d);
            t.put("shape", shape);
            t.put("data_offsets", List.of(offset, offset + e.data().byteSize()));
            header.put(e.name(), t);
            offset += e.data().byteSize();
        }
        byte[] json = Json.write(header, 0).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] head = new byte[8 + padded];
        ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(json, 0, head, 8, json.length);
        for (int i = 8 + json.length; i < head.length; i++) head[i] = ' ';
        try (OutputStream os = Files.newOutputStream(file)) {
            os.write(head);
            byte[] buf = new byte[1 << 20];
            for (Entry e : entries) {
                long n = e.data().byteSize();
                for (long p = 0; p < n; p += buf.length) {
                    int len = (int) Math.min(buf.length, n - p);
                    MemorySegment.copy(e.data(), ValueLayout.JAVA_BYTE, p, buf, 0, len);
                    os.write(buf, 0, len);
                }
            }
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }

}
