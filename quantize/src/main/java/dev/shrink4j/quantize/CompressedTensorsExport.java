package dev.shrink4j.quantize;

import dev.shrink4j.model.CheckpointConfig;
import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.Formats;
import dev.shrink4j.tensors.formats.UniformQuantized;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Writes a quantized shrink4j checkpoint in compressed-tensors' {@code pack-quantized} format (what
 * vLLM loads as W4A16 / W8A16), from the format's public description (compressed-tensors'
 * {@code pack_to_int32} and {@code PackedQuantizationCompressor}); no vLLM runs here, so this is
 * checked against that description only.
 *
 * <p>Per quantized linear {@code M}: {@code M.weight_packed} I32 (d_out, d_in·b/32) — the signed codes
 * q − 2^(b−1) shifted back to unsigned (that is, our codes q) and packed little-endian, 32/b per
 * int32, element 0 in the lowest bits, which is byte for byte our U8 {@code qweight}; {@code M.weight_scale}
 * (d_out, d_in/G) as stored (F16); {@code M.weight_shape} I64 [d_out, d_in]; asymmetric weights add
 * {@code M.weight_zero_point} ({@link #zeroPoints}). Only 4/8-bit groups that tile d_in are written this way; every other linear is written dense (dequantized, in the input's dtype)
 * and listed in {@code ignore}.
 */
public final class CompressedTensorsExport {
    private CompressedTensorsExport() {}

    /** Whether {@code w} is a pack-quantized weight exactly. */
    public static Optional<String> whyNot(CompressedWeight cw) {
        if (!(cw instanceof UniformQuantized w)) return Optional.of(cw.format() + " format");
        if (w.bits() != 4 && w.bits() != 8) return Optional.of(w.bits() + "-bit");
        if (w.gIdx() != null) return Optional.of("act-order group index");
        if (w.dIn() % w.groupSize() != 0) return Optional.of("group size " + w.groupSize() + " does not tile d_in " + w.dIn());
        if (w.dIn() * w.bits() % 32 != 0) return Optional.of("d_in " + w.dIn() + " is no whole number of int32 words");
        return Optional.empty();
    }

    /**
     * The tensors of a pack-quantized weight: codes and scales are views of {@code w}'s own memory; the
     * shape, and for asymmetric weights the zero points, are allocated in {@code arena}.
     */
    public static Map<String, Tensor> tensors(String module, UniformQuantized w, Arena arena) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(module + ".weight_packed", Tensor.wrap(DType.I32, Shape.matrix(w.dOut(), (long) w.dIn() * w.bits() / 32), w.qweight().segment()));
        t.put(module + ".weight_scale", w.scales());
        if (!w.symmetric()) t.put(module + ".weight_zero_point", zeroPoints(w, arena));
        Tensor shape = Tensor.allocate(arena, DType.I64, Shape.of(2));
        shape.segment().setAtIndex(Tensor.I64, 0, w.dOut());
        shape.segment().setAtIndex(Tensor.I64, 1, w.dIn());
        t.put(module + ".weight_shape", shape);
        return t;
    }

    /**
     * {@code weight_zero_point} I32 (⌈d_out/(32/b)⌉, n_groups): compressed-tensors keeps zero points
     * signed (zp − 2^(b−1)) and packs them like the codes shifted back to unsigned — our integer zero
     * points z — but along the <em>output</em> dimension ({@code pack_to_int32(zero_point, b,
     * packed_dim=0)}): word [r, g] holds z[r·(32/b) + k, g] in bits [k·b, (k+1)·b); rows past d_out are 0.
     */
    static Tensor zeroPoints(UniformQuantized w, Arena arena) {
        int perWord = 32 / w.bits(), ng = w.nGroups();
        int words = (w.dOut() + perWord - 1) / perWord;
        Tensor t = Tensor.allocate(arena, DType.I32, Shape.matrix(words, ng));
        for (int r = 0; r < words; r++) {
            for (int g = 0; g < ng; g++) {
                int word = 0;
                for (int k = 0; k < perWord && r * perWord + k < w.dOut(); k++) word |= w.zero(r * perWord + k, g) << (k * w.bits());
                t.segment().setAtIndex(Tensor.I32, (long) r * ng + g, word);
            }
        }
        return t;
    }

    /**
     * Writes {@code compressedDir} (a shrink4j checkpoint quantized from {@code hfInput}) to {@code out}.
     *
     * @return notes: which linears were written dense, and why
     */
    public static List<String> write(Path hfInput, Path compressedDir, Path out, boolean force) {
        ModelConfig cfg = ModelConfig.load(compressedDir);
        Map<String, Map<String, Object>> compressed = cfg.compressedTensors();
        Map<String, Integer> dense = new java.util.TreeMap<>();
        List<String> ignore = new ArrayList<>(List.of("lm_head"));
        int bits = 0, group = 0;
        Boolean symmetric = null;
        try (Arena mapped = Arena.ofShared(); CheckpointWriter w = CheckpointWriter.create(out, CheckpointWriter.Options.defaults().withForce(force))) {
            Checkpoint in = Checkpoint.open(hfInput, mapped);
            Checkpoint ck = Checkpoint.open(compressedDir, mapped);
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (String n : ck.names()) all.put(n, ck.tensor(n));
            for (String name : in.names()) {
                String module = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : null;
                if (module == null || !compressed.containsKey(module)) {
                    w.add(name, ck.tensor(name));
                    continue;
                }
                CompressedWeight cwt = Formats.fromTensors(module, compressed.get(module), all);
                Optional<String> why = whyNot(cwt);
                if (why.isEmpty()) {
                    UniformQuantized u = (UniformQuantized) cwt;
                    if (bits != 0 && (bits != u.bits() || group != u.groupSize() || symmetric != u.symmetric())) {
                        throw new ShrinkException(compressedDir + ": mixed bit widths, group sizes or symmetry are not exported to compressed-tensors yet");
                    }
                    bits = u.bits();
                    group = u.groupSize();
                    symmetric = u.symmetric();
                    try (Arena a = Arena.ofConfined()) {
                        tensors(module, u, a).forEach(w::add);
                    }
                } else {
                    dense.merge(why.get(), 1, Integer::sum);
                    ignore.add(module);
                    try (Arena a = Arena.ofConfined()) {
                        w.add(name, cwt.dequantize(a).convert(a, in.tensor(name).dtype()));
                    }
                }
            }
            if (bits == 0) throw new ShrinkException(compressedDir + ": no linear maps to pack-quantized (" + dense + ")");
            Map<String, Object> config = CheckpointConfig.read(hfInput);
            config.put("quantization_config", quantizationConfig(bits, group, symmetric, ignore));
            w.writeFile("config.json", CheckpointConfig.toJson(config));
            for (String f : new String[] {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "tokenizer.model"}) {
                if (Files.isRegularFile(hfInput.resolve(f))) w.copyFile(hfInput.resolve(f));
            }
            w.commit();
        }
        List<String> notes = new ArrayList<>();
        dense.forEach((why, n) -> notes.add(n + " linear(s) written dense and listed in \"ignore\": " + why));
        return notes;
    }

    /** The {@code quantization_config} block of config.json for one W{bits}A16 group scheme. */
    public static Map<String, Object> quantizationConfig(int bits, int group, boolean symmetric, List<String> ignore) {
        Map<String, Object> weights = new LinkedHashMap<>();
        weights.put("num_bits", (long) bits);
        weights.put("type", "int");
        weights.put("symmetric", symmetric);
        weights.put("strategy", "group");
        weights.put("group_size", (long) group);
        weights.put("dynamic", false);
        weights.put("actorder", null);
        weights.put("observer", "minmax");
        Map<String, Object> g0 = new LinkedHashMap<>();
        g0.put("targets", List.of("Linear"));
        g0.put("weights", weights);
        g0.put("input_activations", null);
        g0.put("output_activations", null);
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("quant_method", "compressed-tensors");
        q.put("format", "pack-quantized");
        q.put("quantization_status", "compressed");
        q.put("config_groups", Map.of("group_0", g0));
        q.put("ignore", List.copyOf(ignore));
        q.put("kv_cache_scheme", null);
        return q;
    }
}
