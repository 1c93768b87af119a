package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Non-uniform (codebook) quantization, SqueezeLLM/LNQ style (docs/methods/guidedquant-lnq.md §5, docs/methods/guidedquant-lnq.md §7): ŵ[j, i] =
 * lut[j, g, q[j, i]] with b-bit codes and a codebook of 2^b values per row (group_size = d_in) or per
 * group of {@code groupSize} consecutive input columns.
 *
 * <p>Stored tensors: {@code .qweight} U8 (d_out, ceil(d_in·b/8)) packed exactly like
 * {@link UniformQuantized}; {@code .lut} F16 (d_out, n_groups, 2^b).
 *
 * @param qweight U8 (d_out, ceil(d_in·b/8))
 * @param lut     F16/BF16/F32 (d_out, n_groups, 2^b)
 */
public record LutQuantized(int dOut, int dIn, CodeWidth width, int groupSize, Tensor qweight, Tensor lut)
        implements CompressedWeight {
    public static final String FORMAT = "lut";

    public LutQuantized {
        if (dOut <= 0 || dIn <= 0 || groupSize <= 0) {
            throw new IllegalArgumentException("bad lut shape (" + dOut + ", " + dIn + ") group " + groupSize);
        }
        Formats.checkTensor("qweight", qweight, Set.of(DType.U8), dOut, width.rowBytes(dIn));
        Formats.checkTensor("lut", lut, Formats.FLOAT_TYPES, dOut, UniformQuantized.groups(dIn, groupSize), 1L << width.bits);
    }

    public int bits() {
        return width.bits;
    }

    public int nGroups() {
        return UniformQuantized.groups(dIn, groupSize);
    }

    /** Codebook entries per group, 2^b. */
    public int entries() {
        return 1 << width.bits;
    }

    public long rowBytes() {
        return width.rowBytes(dIn);
    }

    /** Row {@code j}'s codebooks, widened, into {@code dst[0 .. n_groups·2^b)}. */
    public void readLut(int j, float[] dst) {
        int n = nGroups() * entries();
        lut.readFloats((long) j * n, dst, 0, n);
    }

    @Override public String format() {
        return FORMAT;
    }

    @Override public void dequantizeRow(int j, float[] dst, int off) {
        int[] q = new int[dIn];
        float[] c = new float[nGroups() * entries()];
        BitPacking.unpackRow(qweight.segment(), j * rowBytes(), dIn, width.bits, q);
        readLut(j, c);
        for (int i = 0; i < dIn; i++) {
            dst[off + i] = c[(i / groupSize) * entries() + q[i]];
        }
    }

    @Override public void matvec(float[] x, float[] y, FormatKernels k) {
        k.lutMatvec(this, x, y);
    }

    @Override public void matmul(float[] x, int m, float[] y, FormatKernels k) {
        k.lutMatmul(this, x, m, y);
    }

    @Override public long payloadBytes() {
        return qweight.byteSize();
    }

    @Override public long storageBytes() {
        return qweight.byteSize() + lut.byteSize();
    }

    @Override public LutQuantized rows(int j0, int j1) {
        java.util.Objects.checkFromToIndex(j0, j1, dOut);
        return new LutQuantized(j1 - j0, dIn, width, groupSize, qweight.rows(j0, j1), lut.rows(j0, j1));
    }

    @Override public Map<String, Tensor> toTensors(String module) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put(module + ".qweight", qweight);
        m.put(module + ".lut", lut);
        return m;
    }

    @Override public Map<String, Object> descriptor() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("format", FORMAT);
        d.put("shape", List.of(dOut, dIn));
        d.put("bits", width.bits);
        d.put("group_size", groupSize);
        return d;
    }

    static LutQuantized fromTensors(String module, Map<String, ?> d, Map<String, Tensor> t) {
        int[] s = Formats.shape(module, d);
        int bits = Formats.integer(module, d, "bits");
        int g = Formats.integer(module, d, "group_size");
        if (g <= 0) {
            throw new ShrinkException("module '" + module + "': group_size must be positive, found " + g);
        }
        CodeWidth w;
        try {
            w = CodeWidth.ofBits(bits);
        } catch (IllegalArgumentException e) {
            throw new ShrinkException("module '" + module + "': " + e.getMessage());
        }
        Tensor qw = Formats.require(t, module + ".qweight", Set.of(DType.U8), s[0], w.rowBytes(s[1]));
        Tensor lut = Formats.require(t, module + ".lut", Formats.FLOAT_TYPES, s[0], UniformQuantized.groups(s[1], g), 1L << bits);
        return new LutQuantized(s[0], s[1], w, g, qw, lut);
    }

    /** Starts a LUT weight in {@code arena} (group_size = d_in for one codebook per row). */
    public static Builder builder(Arena arena, int dOut, int dIn, int bits, int groupSize) {
        return new Builder(arena, dOut, dIn, CodeWidth.ofBits(bits), groupSize);
    }

    /** From arrays: codes (d_out·d_in), codebooks (d_out·n_groups·2^b). */
    public static LutQuantized of(Arena arena, int dOut, int dIn, int bits, int groupSize, int[] codes, float[] codebooks) {
        Builder b = builder(arena, dOut, dIn, bits, groupSize);
        int per = UniformQuantized.groups(dIn, groupSize) << bits;
        for (int j = 0; j < dOut; j++) {
            b.setCodes(j, codes, j * dIn);
            b.setCodebooks(j, codebooks, j * per);
        }
        return b.build();
    }

    public static final class Builder {
        private final int dOut;
        private final int dIn;
        private final CodeWidth width;
        private final int groupSize;
        private final Tensor qweight; // U8 (d_out, rowBytes)
        private final Tensor lut;     // F16 (d_out, n_groups, 2^b)

        private Builder(Arena arena, int dOut, int dIn, CodeWidth width, int groupSize) {
            if (dOut <= 0 || dIn <= 0 || groupSize <= 0) {
                throw new IllegalArgumentException("bad lut shape (" + dOut + ", " + dIn + ") group " + groupSize);
            }
            this.dOut = dOut;
            this.dIn = dIn;
            this.width = width;
            this.groupSize = groupSize;
            this.qweight = Tensor.allocate(arena, DType.U8, Shape.matrix(dOut, width.rowBytes(dIn)));
            this.lut = Tensor.allocate(arena, DType.F16, Shape.of(dOut, UniformQuantized.groups(dIn, groupSize), 1L << width.bits));
        }

        public Builder setCode(int j, int i, int q) {
            BitPacking.set(qweight.segment(), j * width.rowBytes(dIn), i, width.bits, q);
            return this;
        }

        public Builder setCodes(int j, int[] codes, int off) {
            MemorySegment row = qweight.segment().asSlice(j * width.rowBytes(dIn), width.rowBytes(dIn));
            row.fill((byte) 0);
            BitPacking.packRow(row, 0, dIn, width.bits, codes, off);
            return this;
        }

        /** Entry {@code c} of row {@code j}'s codebook for group {@code g}, stored as F16. */
        public Builder setEntry(int j, int g, int c, float v) {
            int ng = UniformQuantized.groups(dIn, groupSize);
            lut.setFloat(((long) j * ng + g << width.bits) + c, v);
            return this;
        }

        /** Row {@code j}'s codebooks from {@code values[off .. off + n_groups·2^b)}. */
        public Builder setCodebooks(int j, float[] values, int off) {
            int n = UniformQuantized.groups(dIn, groupSize) << width.bits;
            lut.writeFloats((long) j * n, values, off, n);
            return this;
        }

        public LutQuantized build() {
            return new LutQuantized(dOut, dIn, width, groupSize, qweight, lut);
        }
    }
}
