package dev.shrink4j.quantize;

import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The {@link GradientStatistics} of earlier runs under a directory, one entry per key: a SHA-256 of the
 * model (config and every decoder linear's weights), the calibration tokens and what the method
 * gathers (guided groups, Fisher or not), not the bit-width, so a run at other bits skips the forward
 * + backward pass. An entry is {@code dir/<key>/model.safetensors}, written with {@link CheckpointWriter}
 * (atomic, CRC-checked). The same key names the block Hessians' entry ({@link HessianCache}).
 */
final class StatisticsCache {
    private final Path dir;

    StatisticsCache(Path dir) {
        this.dir = dir;
    }

    Path directory() {
        return dir;
    }

    /** The cache key of {@code model} calibrated on {@code sequences} for {@code options}' method. */
    static String key(LlamaModel model, int[][] sequences, QuantizeOptions options) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(("shrink4j-quant-stats-v1 guided=" + options.method().guided() + " fisher="
                    + GradientStatistics.wantsFisher(options.method()) + " guidedGroups=" + options.guidedGroups() + " "
                    + model.config()).getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = ByteBuffer.allocate(4 * 1024).order(ByteOrder.LITTLE_ENDIAN);
            for (int[] seq : sequences) {
                for (int t : seq) {
                    if (!b.hasRemaining()) { md.update(b.array(), 0, b.position()); b.clear(); }
                    b.putInt(t);
                }
                if (b.remaining() < 4) { md.update(b.array(), 0, b.position()); b.clear(); }
                b.putInt(-1);
            }
            md.update(b.array(), 0, b.position());
            for (int l = 0; l < model.numLayers(); l++) {
                for (Proj p : Proj.values()) {
                    Linear lin = model.layer(l).linear(p);
                    if (lin == null) continue;
                    try (Arena a = Arena.ofConfined()) {
                        md.update(lin.weight(a).segment().asByteBuffer());
                    }
                }
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 32);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The entry's directory name, for progress lines. */
    String entryName(String key) {
        return dir.resolve(key).getFileName().toString();
    }

    Optional<GradientStatistics> read(String key) {
        Path entry = dir.resolve(key);
        if (!Files.isRegularFile(entry.resolve("model.safetensors"))) return Optional.empty();
        Map<String, float[]> fisher = new HashMap<>(), saliency = new HashMap<>(), norms = new HashMap<>();
        try (Arena a = Arena.ofConfined()) {
            Checkpoint ck = Checkpoint.open(entry, a);
            for (String name : ck.names()) {
                float[] v = ck.tensor(name).toFloatArray();
                int dot = name.indexOf('.');
                String kind = name.substring(0, dot), module = name.substring(dot + 1);
                switch (kind) {
                    case "fisher" -> fisher.put(module, v);
                    case "saliency" -> saliency.put(module, v);
                    case "norms" -> norms.put(module, v);
                    default -> throw new ShrinkException("statistics cache " + entry + ": unexpected tensor " + name);
                }
            }
            String tokens = ck.metadata().get("tokens");
            if (tokens == null) throw new ShrinkException("statistics cache " + entry + " lacks its token count");
            return Optional.of(new GradientStatistics(fisher, saliency, norms, Integer.parseInt(tokens)));
        }
    }

    void write(String key, GradientStatistics s) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("tokens", Integer.toString(s.tokens()));
        try (Arena a = Arena.ofConfined();
             CheckpointWriter w = CheckpointWriter.create(dir.resolve(key), new CheckpointWriter.Options(true, 4L << 30, meta))) {
            for (var e : new TreeMap<>(s.fisher()).entrySet()) w.add("fisher." + e.getKey(), vector(a, e.getValue()));
            for (var e : new TreeMap<>(s.saliency()).entrySet()) w.add("saliency." + e.getKey(), vector(a, e.getValue()));
            for (var e : new TreeMap<>(s.inputNorms()).entrySet()) w.add("norms." + e.getKey(), vector(a, e.getValue()));
            w.commit();
        }
    }

    private static Tensor vector(Arena a, float[] v) {
        return Tensor.ofFloats(a, Shape.of(v.length), v);
    }
}
