package dev.shrink4j.tensors.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.CsrSparse;
import dev.shrink4j.tensors.formats.DenseAndSparse;
import dev.shrink4j.tensors.formats.DenseWeight;
import dev.shrink4j.tensors.formats.Formats;
import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.LowRank;
import dev.shrink4j.tensors.formats.LowRankColumnSparse;
import dev.shrink4j.tensors.formats.LutQuantized;
import dev.shrink4j.tensors.formats.NmQuantized;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * {@link Formats#fromTensors} with hostile descriptors and tensors. Each input picks one of the ten
 * formats (incl. low-rank with int4 factors and 2:4 with int4 kept values), builds a valid small weight of it (8 × 12, awkward on purpose: ragged groups, 2:4 blocks),
 * then applies fuzzer-chosen lies: descriptor keys set to other types and extreme numbers, tensors
 * dropped, given another dtype or shape, or their bytes overwritten (codes, indices, row pointers). A
 * weight that loads must then dequantize every row and multiply without failing, with both kernel
 * providers; the documented refusal is {@link ShrinkException}.
 */
class FormatsFuzzTest {
    private static final int D_OUT = 8;
    private static final int D_IN = 12;
    private static final DType[] DTYPES = DType.values();

    @FuzzTest
    void fromTensors(FuzzedDataProvider data) {
        try (Arena arena = Arena.ofConfined()) {
            CompressedWeight valid = valid(arena, data.consumeInt(0, 9));
            String module = "m";
            Map<String, Object> descriptor = new LinkedHashMap<>(valid.descriptor());
            Map<String, Tensor> tensors = new LinkedHashMap<>(valid.toTensors(module));
            int lies = data.consumeInt(0, 4);
            for (int i = 0; i < lies && data.remainingBytes() > 0; i++) {
                switch (data.consumeInt(0, 4)) {
                    case 0 -> descriptor.put(pick(data, new ArrayList<>(descriptor.keySet()), "format"), value(data));
                    case 1 -> tensors.remove(pick(data, new ArrayList<>(tensors.keySet()), module + ".weight"));
                    case 2 -> {
                        String name = pick(data, new ArrayList<>(tensors.keySet()), module + ".weight");
                        tensors.put(name, reshaped(arena, data));
                    }
                    case 3 -> {
                        String name = pick(data, new ArrayList<>(tensors.keySet()), module + ".weight");
                        Tensor t = tensors.get(name);
                        if (t == null || t.byteSize() == 0) break;
                        Tensor copy = Tensor.allocate(arena, t.dtype(), t.shape());
                        copy.segment().copyFrom(t.segment());
                        int writes = data.consumeInt(1, 8);
                        for (int w = 0; w < writes; w++) {
                            copy.segment().set(ValueLayout.JAVA_BYTE, data.consumeLong(0, copy.byteSize() - 1), data.consumeByte());
                        }
                        tensors.put(name, copy);
                    }
                    default -> descriptor.put(data.consumeString(12), value(data));
                }
            }
            CompressedWeight w;
            try {
                w = Formats.fromTensors(module, descriptor, tensors);
            } catch (ShrinkException expected) {
                return;
            }
            // Accepted: it must now behave like a weight of its stated shape.
            if ((long) w.dOut() * w.dIn() > 1 << 20) throw new AssertionError("accepted a weight of " + w.dOut() + " × " + w.dIn() + " from small tensors");
            float[] row = new float[w.dIn()];
            for (int j = 0; j < w.dOut(); j++) w.dequantizeRow(j, row, 0);
            float[] x = new float[w.dIn()];
            for (int i = 0; i < x.length; i++) x[i] = (i % 5) - 2;
            float[] y = new float[w.dOut()];
            w.matvec(x, y, FormatKernels.scalar());
            w.matvec(x, y, FormatKernels.get());
            float[] ym = new float[2 * w.dOut()];
            float[] xm = new float[2 * w.dIn()];
            w.matmul(xm, 2, ym, FormatKernels.scalar());
            w.matmul(xm, 2, ym, FormatKernels.get());
        }
    }

    private static String pick(FuzzedDataProvider data, List<String> keys, String dflt) {
        return keys.isEmpty() ? dflt : keys.get(data.consumeInt(0, keys.size() - 1));
    }

    /** A JSON-like value: the types a descriptor can hold after Json.parse, at their extremes. */
    private static Object value(FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 6)) {
            case 0 -> data.consumeLong();
            case 1 -> (long) data.consumeInt(-3, 300);
            case 2 -> data.consumeDouble();
            case 3 -> data.consumeString(16);
            case 4 -> data.consumeBoolean();
            case 5 -> List.of((long) data.consumeInt(-2, 1 << 16), data.consumeLong());
            default -> null;
        };
    }

    /** A tensor of a fuzzer-chosen dtype and small shape (at most 4 KiB), filled with fuzzer bytes. */
    private static Tensor reshaped(Arena arena, FuzzedDataProvider data) {
        DType dtype = DTYPES[data.consumeInt(0, DTYPES.length - 1)];
        int rank = data.consumeInt(0, 3);
        long[] dims = new long[rank];
        long numel = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = data.consumeInt(0, 64);
            numel *= dims[i];
        }
        if (numel * dtype.byteSize() > 4096) {
            dims = new long[] {1};
        }
        Tensor t = Tensor.allocate(arena, dtype, Shape.of(dims));
        byte[] fill = data.consumeBytes((int) t.byteSize());
        for (int i = 0; i < fill.length; i++) t.segment().set(ValueLayout.JAVA_BYTE, i, fill[i]);
        return t;
    }

    /** One valid weight of each format, from a seeded Gaussian matrix. */
    static CompressedWeight valid(Arena arena, int which) {
        Random rnd = new Random(which);
        float[] w = new float[D_OUT * D_IN];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        return switch (which) {
            case 0 -> DenseWeight.ofFloats(arena, D_OUT, D_IN, w);
            case 1 -> UniformQuantized.rtn(arena, w, D_OUT, D_IN, 3, 5, false);
            case 2 -> {
                int[] codes = new int[w.length];
                for (int i = 0; i < codes.length; i++) codes[i] = i % 4;
                float[] books = new float[D_OUT * 2 * 4];
                for (int i = 0; i < books.length; i++) books[i] = i * 0.1f;
                yield LutQuantized.of(arena, D_OUT, D_IN, 2, 6, codes, books);
            }
            case 3 -> CsrSparse.fromDense(arena, sparse(w), D_OUT, D_IN);
            case 4 -> new DenseAndSparse(UniformQuantized.rtn(arena, w, D_OUT, D_IN, 2, 4, true), CsrSparse.fromDense(arena, sparse(w), D_OUT, D_IN));
            case 5 -> {
                float[] nm = w.clone(); // keep 2 of every 4 (the first two)
                for (int i = 0; i < nm.length; i++) if (i % 4 >= 2) nm[i] = 0;
                yield NmSparse.fromDense(arena, nm, D_OUT, D_IN, 2, 4);
            }
            case 6 -> lowRank(arena, rnd);
            case 8 -> new LowRank(UniformQuantized.rtn(arena, w, 3, D_IN, 4, 5, false),
                    UniformQuantized.rtn(arena, java.util.Arrays.copyOf(w, D_OUT * 3), D_OUT, 3, 4, 2, true));
            case 9 -> {
                float[] nm = w.clone();
                for (int i = 0; i < nm.length; i++) if (i % 4 >= 2) nm[i] = 0;
                int kept = D_IN / 2;
                float[] vals = new float[D_OUT * kept];
                int[] idx = new int[D_OUT * kept];
                NmSparse.compact(nm, D_OUT, D_IN, 2, 4, vals, idx);
                yield NmQuantized.rtn(arena, D_OUT, D_IN, 2, 4, vals, idx, 4, 5, false);
            }
            default -> LowRankColumnSparse.of(arena, lowRank(arena, rnd), new int[] {0, 5, 11}, new float[D_OUT * 3], DType.F16);
        };
    }

    private static float[] sparse(float[] w) {
        float[] s = new float[w.length];
        for (int i = 0; i < w.length; i += 7) s[i] = w[i];
        return s;
    }

    private static LowRank lowRank(Arena arena, Random rnd) {
        float[] a = new float[3 * D_IN];
        float[] b = new float[D_OUT * 3];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextGaussian();
        return new LowRank(DenseWeight.ofFloats(arena, 3, D_IN, a), DenseWeight.ofFloats(arena, D_OUT, 3, b));
    }
}
