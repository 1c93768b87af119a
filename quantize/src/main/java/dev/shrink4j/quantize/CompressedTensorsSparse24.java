package dev.shrink4j.quantize;

import dev.shrink4j.model.CheckpointConfig;
import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.Formats;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * 2:4-sparse linears in compressed-tensors' {@code sparse-24-bitmask} format (what vLLM loads for 2:4
 * weights), written from the format's public description (compressed-tensors'
 * {@code Sparse24BitMaskTensor} and {@code pack_bitmasks}); no vLLM runs here, so it is checked against
 * that description only. Per linear {@code M} (d_out, d_in):
 * <ul>
 * <li>{@code M.compressed} (d_out, d_in/2) in the weight's dtype: the two kept values of every run of
 *     four, in row-major order;
 * <li>{@code M.bitmask} U8 (d_out, ⌈d_in/8⌉): bit k of byte i of row j is set when column 8i + k is
 *     kept ({@code numpy.packbits(…, bitorder="little")}), exactly two per run of four;
 * <li>{@code M.shape} I64 (2, 1): [d_out, d_in].
 * </ul>
 * A run with fewer than two non-zeros (a kept value that is 0) keeps its first zero positions, so every
 * run has exactly two bits, as the format's reshape to (d_out, d_in/2) requires.
 *
 * <p>2:4 and quantization together are stored by compressed-tensors as {@code marlin-24} (int4 in
 * Marlin's tile permutation), not as {@code sparse-24-bitmask} over packed codes; shrink4j does not
 * write that combination.
 */
public final class CompressedTensorsSparse24 {
    private CompressedTensorsSparse24() {}

    /** The three tensors of a 2:4 weight given densely, (d_out, d_in) row-major; values in {@code dtype}. */
    public static Map<String, Tensor> tensors(String module, float[] w, int dOut, int dIn, DType dtype, Arena arena) {
        if (dIn % 4 != 0) throw new IllegalArgumentException(module + ": d_in " + dIn + " is not a multiple of 4");
        int rowMask = (dIn + 7) / 8;
        Tensor values = Tensor.allocate(arena, dtype, Shape.matrix(dOut, dIn / 2));
        Tensor mask = Tensor.allocate(arena, DType.U8, Shape.matrix(dOut, rowMask));
        float[] kept = new float[dIn / 2];
        for (int j = 0; j < dOut; j++) {
            int t = 0;
            for (int run = 0; run < dIn; run += 4) {
                int nz = 0;
                for (int k = 0; k < 4; k++) if (w[j * dIn + run + k] != 0) nz++;
                if (nz > 2) throw new ShrinkException(module + ": row " + j + " has " + nz + " non-zeros in columns " + run + ".." + (run + 3) + "; not 2:4");
                int zerosToKeep = 2 - nz;
                for (int k = 0; k < 4; k++) {
                    float v = w[j * dIn + run + k];
                    if (v == 0 && zerosToKeep == 0) continue;
                    if (v == 0) zerosToKeep--;
                    kept[t++] = v;
                    int col = run + k;
                    long at = (long) j * rowMask + col / 8;
                    mask.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, at,
                            (byte) (mask.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, at) | 1 << (col % 8)));
                }
            }
            values.writeFloats((long) j * (dIn / 2), kept, 0, kept.length);
        }
        Tensor shape = Tensor.allocate(arena, DType.I64, Shape.matrix(2, 1));
        shape.segment().setAtIndex(Tensor.I64, 0, dOut);
        shape.segment().setAtIndex(Tensor.I64, 1, dIn);
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(module + ".shape", shape);
        t.put(module + ".compressed", values);
        t.put(module + ".bitmask", mask);
        return t;
    }

    /** The reader: the dense (d_out, d_in) weight of a module's three tensors, every count checked. */
    public static float[] decompress(String module, Map<String, Tensor> tensors) {
        Tensor shape = tensors.get(module + ".shape"), values = tensors.get(module + ".compressed"), mask = tensors.get(module + ".bitmask");
        if (shape == null || values == null || mask == null) throw new ShrinkException(module + ": sparse-24-bitmask needs .shape, .compressed and .bitmask");
        if (shape.numel() != 2 || shape.dtype() != DType.I64) throw new ShrinkException(module + ".shape: expected I64 [2, 1], found " + shape.dtype() + " " + shape.shape());
        int dOut = Math.toIntExact(shape.segment().getAtIndex(Tensor.I64, 0)), dIn = Math.toIntExact(shape.segment().getAtIndex(Tensor.I64, 1));
        int rowMask = (dIn + 7) / 8;
        if (dIn % 4 != 0 || !values.shape().equals(Shape.matrix(dOut, dIn / 2)) || mask.dtype() != DType.U8 || !mask.shape().equals(Shape.matrix(dOut, rowMask))) {
            throw new ShrinkException(module + ": sparse-24-bitmask tensors do not fit shape [" + dOut + ", " + dIn + "]");
        }
        float[] v = values.toFloatArray();
        float[] w = new float[dOut * dIn];
        for (int j = 0; j < dOut; j++) {
            int t = 0;
            for (int col = 0; col < dIn; col++) {
                int bits = mask.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, (long) j * rowMask + col / 8);
                if ((bits >> (col % 8) & 1) == 0) continue;
                if (t == dIn / 2) throw new ShrinkException(module + ": row " + j + " of the bitmask has more than d_in/2 bits");
                w[j * dIn + col] = v[j * (dIn / 2) + t++];
            }
            if (t != dIn / 2) throw new ShrinkException(module + ": row " + j + " of the bitmask has " + t + " bits, expected " + dIn / 2);
        }
        return w;
    }

    /**
     * Writes {@code nmDir} (a shrink4j checkpoint pruned from {@code hfInput} with N:M storage) to
     * {@code out}: 2:4 linears as sparse-24-bitmask, anything else dense and listed in {@code ignore}.
     *
     * @return notes: which linears were written dense, and why
     */
    public static List<String> write(Path hfInput, Path nmDir, Path out, boolean force) {
        Map<String, Map<String, Object>> compressed = ModelConfig.load(nmDir).compressedTensors();
        Map<String, Integer> dense = new TreeMap<>();
        List<String> ignore = new ArrayList<>(List.of("lm_head"));
        long kept = 0, total = 0;
        try (Arena mapped = Arena.ofShared(); CheckpointWriter w = CheckpointWriter.create(out, CheckpointWriter.Options.defaults().withForce(force))) {
            Checkpoint in = Checkpoint.open(hfInput, mapped);
            Checkpoint ck = Checkpoint.open(nmDir, mapped);
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (String n : ck.names()) all.put(n, ck.tensor(n));
            for (String name : in.names()) {
                String module = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : null;
                if (module == null || !compressed.containsKey(module)) {
                    w.add(name, ck.tensor(name));
                    continue;
                }
                CompressedWeight cw = Formats.fromTensors(module, compressed.get(module), all);
                try (Arena a = Arena.ofConfined()) {
                    if (cw instanceof NmSparse nm && nm.n() == 2 && nm.m() == 4) {
                        float[] dw = cw.dequantize(a).toFloatArray();
                        tensors(module, dw, cw.dOut(), cw.dIn(), in.tensor(name).dtype(), a).forEach(w::add);
                        for (float v : dw) if (v != 0) kept++;
                        total += dw.length;
                    } else {
                        dense.merge(cw.format() + (cw instanceof NmSparse nm ? " " + nm.n() + ":" + nm.m() : ""), 1, Integer::sum);
                        ignore.add(module);
                        w.add(name, cw.dequantize(a).convert(a, in.tensor(name).dtype()));
                    }
                }
            }
            if (total == 0) throw new ShrinkException(nmDir + ": no 2:4 linear to write as sparse-24-bitmask (" + dense + ")");
            Map<String, Object> config = CheckpointConfig.read(hfInput);
            config.put("quantization_config", config(1 - (double) kept / total, ignore));
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

    /** {@code quantization_config} for sparsity only: the method and a {@code sparsity_config} block. */
    public static Map<String, Object> config(double globalSparsity, List<String> ignore) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("format", "sparse-24-bitmask");
        s.put("sparsity_structure", "2:4");
        s.put("global_sparsity", globalSparsity);
        s.put("targets", List.of("Linear"));
        s.put("ignore", List.copyOf(ignore));
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("quant_method", "compressed-tensors");
        q.put("sparsity_config", s);
        return q;
    }
}
