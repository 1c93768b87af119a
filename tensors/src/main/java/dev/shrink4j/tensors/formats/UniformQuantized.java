package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Floats;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Uniform group quantization (docs/methods/rtn-gptq.md §1): ŵ[j, i] = s[j, g]·(q[j, i] − z[j, g]) with b-bit codes
 * q, groups of {@code groupSize} consecutive input columns (the last group may be shorter), or, with
 * a group index (GPTQ act-order), g = g_idx[i]. Symmetric weights store no zeros: z = 2^(b−1).
 *
 * <p>Stored tensors ({@code docs/formats.md}): {@code .qweight} U8 (d_out, ceil(d_in·b/8)) codes packed
 * little-endian per row; {@code .scales} F16 (d_out, n_groups); {@code .zeros} U8 (d_out,
 * ceil(n_groups·b/8)) b-bit zero points packed the same way (asymmetric only); {@code .g_idx} I32 (d_in)
 * (act-order only). n_groups = ceil(d_in / group_size).
 *
 * @param qweight U8 (d_out, ceil(d_in·b/8))
 * @param scales  F16/BF16/F32 (d_out, n_groups)
 * @param zeros   U8 (d_out, ceil(n_groups·b/8)), or null when symmetric
 * @param gIdx    I32 (d_in), or null for static groups
 */
public record UniformQuantized(int dOut, int dIn, CodeWidth width, int groupSize, boolean symmetric,
                               Tensor qweight, Tensor scales, Tensor zeros, Tensor gIdx) implements CompressedWeight {
    public static final String FORMAT = "uniform";

    public UniformQuantized {
        if (dOut <= 0 || dIn <= 0 || groupSize <= 0) {
            throw new IllegalArgumentException("bad uniform shape (" + dOut + ", " + dIn + ") group " + groupSize);
        }
        int ng = groups(dIn, groupSize);
        Formats.checkTensor("qweight", qweight, Set.of(DType.U8), dOut, width.rowBytes(dIn));
        Formats.checkTensor("scales", scales, Formats.FLOAT_TYPES, dOut, ng);
        if (symmetric != (zeros == null)) {
            throw new IllegalArgumentException(symmetric ? "symmetric weights store no zeros" : "asymmetric weights need zeros");
        }
        if (zeros != null) {
            Formats.checkTensor("zeros", zeros, Set.of(DType.U8), dOut, width.rowBytes(ng));
        }
        if (gIdx != null) {
            Formats.checkTensor("g_idx", gIdx, Set.of(DType.I32), dIn);
            for (int i = 0; i < dIn; i++) {
                int g = gIdx.segment().getAtIndex(Tensor.I32, i);
                if (g < 0 || g >= ng) {
                    throw new IllegalArgumentException("g_idx[" + i + "] = " + g + " outside [0, " + ng + ")");
                }
            }
        }
    }

    /** Number of groups along d_in: ceil(d_in / group_size). */
    public static int groups(int dIn, int groupSize) {
        return (dIn + groupSize - 1) / groupSize;
    }

    public int bits() {
        return width.bits;
    }

    public int nGroups() {
        return groups(dIn, groupSize);
    }

    public long rowBytes() {
        return width.rowBytes(dIn);
    }

    /** Group of input column {@code i}. */
    public int group(int i) {
        return gIdx == null ? i / groupSize : gIdx.segment().getAtIndex(Tensor.I32, i);
    }

    public int code(int j, int i) {
        return BitPacking.get(qweight.segment(), j * rowBytes(), i, width.bits);
    }

    public float scale(int j, int g) {
        return scales.getFloat((long) j * nGroups() + g);
    }

    public int zero(int j, int g) {
        return symmetric ? 1 << (width.bits - 1) : BitPacking.get(zeros.segment(), j * width.rowBytes(nGroups()), g, width.bits);
    }

    /** Row {@code j}'s scales, widened, into {@code dst[0..n_groups)}. */
    public void readScales(int j, float[] dst) {
        scales.readFloats((long) j * nGroups(), dst, 0, nGroups());
    }

    /** Row {@code j}'s zero points into {@code dst[0..n_groups)}. */
    public void readZeros(int j, int[] dst) {
        int ng = nGroups();
        if (symmetric) {
            java.util.Arrays.fill(dst, 0, ng, 1 << (width.bits - 1));
        } else {
            BitPacking.unpackRow(zeros.segment(), j * width.rowBytes(ng), ng, width.bits, dst);
        }
    }

    @Override public String format() {
        return FORMAT;
    }

    @Override public void dequantizeRow(int j, float[] dst, int off) {
        int ng = nGroups();
        int[] q = new int[dIn];
        float[] s = new float[ng];
        int[] z = new int[ng];
        BitPacking.unpackRow(qweight.segment(), j * rowBytes(), dIn, width.bits, q);
        readScales(j, s);
        readZeros(j, z);
        for (int i = 0; i < dIn; i++) {
            int g = group(i);
            dst[off + i] = s[g] * (q[i] - z[g]);
        }
    }

    @Override public void matvec(float[] x, float[] y, FormatKernels k) {
        k.uniformMatvec(this, x, y);
    }

    @Override public void matmul(float[] x, int m, float[] y, FormatKernels k) {
        k.uniformMatmul(this, x, m, y);
    }

    @Override public UniformQuantized rows(int j0, int j1) {
        java.util.Objects.checkFromToIndex(j0, j1, dOut);
        return new UniformQuantized(j1 - j0, dIn, width, groupSize, symmetric, qweight.rows(j0, j1), scales.rows(j0, j1),
                zeros == null ? null : zeros.rows(j0, j1), gIdx);
    }

    @Override public long payloadBytes() {
        return qweight.byteSize();
    }

    @Override public long storageBytes() {
        return qweight.byteSize() + scales.byteSize() + (zeros == null ? 0 : zeros.byteSize()) + (gIdx == null ? 0 : gIdx.byteSize());
    }

    @Override public Map<String, Tensor> toTensors(String module) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put(module + ".qweight", qweight);
        m.put(module + ".scales", scales);
        if (zeros != null) m.put(module + ".zeros", zeros);
        if (gIdx != null) m.put(module + ".g_idx", gIdx);
        return m;
    }

    @Override public Map<String, Object> descriptor() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("format", FORMAT);
        d.put("shape", List.of(dOut, dIn));
        d.put("bits", width.bits);
        d.put("group_size", groupSize);
        d.put("symmetric", symmetric);
        d.put("act_order", gIdx != null);
        return d;
    }

    static UniformQuantized fromTensors(String module, Map<String, ?> d, Map<String, Tensor> t) {
        int[] s = Formats.shape(module, d);
        int bits = Formats.integer(module, d, "bits");
        int g = Formats.integer(module, d, "group_size");
        boolean sym = Formats.bool(module, d, "symmetric", false);
        boolean act = Formats.bool(module, d, "act_order", false);
        CodeWidth w;
        try {
            w = CodeWidth.ofBits(bits);
        } catch (IllegalArgumentException e) {
            throw new ShrinkException("module '" + module + "': " + e.getMessage());
        }
        if (g <= 0) {
            throw new ShrinkException("module '" + module + "': group_size must be positive, found " + g);
        }
        int ng = groups(s[1], g);
        Tensor qw = Formats.require(t, module + ".qweight", Set.of(DType.U8), s[0], w.rowBytes(s[1]));
        Tensor sc = Formats.require(t, module + ".scales", Formats.FLOAT_TYPES, s[0], ng);
        Tensor z = sym ? null : Formats.require(t, module + ".zeros", Set.of(DType.U8), s[0], w.rowBytes(ng));
        Tensor gi = act ? Formats.require(t, module + ".g_idx", Set.of(DType.I32), s[1]) : null;
        try {
            return new UniformQuantized(s[0], s[1], w, g, sym, qw, sc, z, gi);
        } catch (IllegalArgumentException e) {
            throw new ShrinkException("module '" + module + "': " + e.getMessage());
        }
    }

    /** A scale as it will be stored (F16), so quantizers can compute codes against the stored value. */
    public static float roundScale(float s) {
        return Floats.f16ToF32(Floats.f32ToF16(s));
    }

    /** Starts a weight whose tensors live in {@code arena}; fill codes, scales, zeros, then {@link Builder#build()}. */
    public static Builder builder(Arena arena, int dOut, int dIn, int bits, int groupSize, boolean symmetric) {
        return new Builder(arena, dOut, dIn, CodeWidth.ofBits(bits), groupSize, symmetric);
    }

    /**
     * Builds from plain arrays: codes (d_out·d_in) in [0, 2^b), scales (d_out·n_groups), zeros
     * (d_out·n_groups, null when symmetric), gIdx (d_in, or null).
     */
    public static UniformQuantized of(Arena arena, int dOut, int dIn, int bits, int groupSize,
                                      int[] codes, float[] scales, int[] zeros, int[] gIdx) {
        Builder b = builder(arena, dOut, dIn, bits, groupSize, zeros == null);
        int ng = groups(dIn, groupSize);
        for (int j = 0; j < dOut; j++) {
            b.setCodes(j, codes, j * dIn);
            for (int g = 0; g < ng; g++) {
                b.setScale(j, g, scales[j * ng + g]);
                if (zeros != null) b.setZero(j, g, zeros[j * ng + g]);
            }
        }
        if (gIdx != null) b.setGroupIndex(gIdx);
        return b.build();
    }

    /**
     * Round-to-nearest (docs/methods/rtn-gptq.md §1) of a row-major F32 weight (d_out·d_in) by
     * {@link UniformGrid#rtn}; a group size of d_in or more is recorded as d_in (one group per row).
     */
    public static UniformQuantized rtn(Arena arena, float[] w, int dOut, int dIn, int bits, int groupSize, boolean symmetric) {
        int gs = UniformGrid.effectiveGroupSize(groupSize, dIn);
        int ng = groups(dIn, gs);
        byte[] codes = new byte[dOut * dIn];
        float[] scales = new float[dOut * ng];
        byte[] zeros = new byte[dOut * ng];
        UniformGrid.rtn(w, dOut, dIn, bits, gs, symmetric, codes, scales, zeros);
        return ofCodes(arena, dOut, dIn, bits, gs, codes, scales, symmetric ? null : zeros, null);
    }

    /**
     * Builds from byte arrays as quantizers produce them: codes (d_out·d_in, unsigned) in [0, 2^b),
     * scales (d_out·n_groups), zeros (d_out·n_groups, unsigned; null when symmetric), gIdx (d_in, or
     * null). Rows are packed on the heap (across threads for large weights) and copied in once.
     */
    public static UniformQuantized ofCodes(Arena arena, int dOut, int dIn, int bits, int groupSize,
                                           byte[] codes, float[] scales, byte[] zeros, int[] gIdx) {
        Builder b = builder(arena, dOut, dIn, bits, groupSize, zeros == null);
        int ng = groups(dIn, groupSize);
        b.setAllCodes(packRows(codes, dOut, dIn, b.width));
        b.setAllScales(scales);
        if (zeros != null) b.setAllZeros(packRows(zeros, dOut, ng, b.width));
        if (gIdx != null) b.setGroupIndex(gIdx);
        return b.build();
    }

    /** (rows, n) unsigned codes → rows of {@code width.rowBytes(n)} packed bytes. */
    private static byte[] packRows(byte[] codes, int rows, int n, CodeWidth width) {
        int rb = Math.toIntExact(width.rowBytes(n));
        byte[] packed = new byte[Math.multiplyExact(rows, rb)];
        if ((long) rows * n >= PARALLEL_PACK_CODES) {
            dev.shrink4j.tensors.Parallel.forRange(rows, 16, dev.shrink4j.tensors.Parallel.threads(), (j0, j1) -> {
                for (int j = j0; j < j1; j++) BitPacking.packRow(codes, j * n, n, width.bits, packed, j * rb);
            });
        } else {
            for (int j = 0; j < rows; j++) BitPacking.packRow(codes, j * n, n, width.bits, packed, j * rb);
        }
        return packed;
    }

    /** Codes from which {@link #packRows} splits rows across threads. */
    private static final long PARALLEL_PACK_CODES = 1L << 18;

    /** Fills a uniform weight's tensors in place; not thread-safe across rows sharing a byte only in zeros. */
    public static final class Builder {
        private final int dOut;
        private final int dIn;
        private final CodeWidth width;
        private final int groupSize;
        private final boolean symmetric;
        private final Arena arena;
        private final Tensor qweight; // U8 (d_out, rowBytes)
        private final Tensor scales;  // F16 (d_out, n_groups)
        private final Tensor zeros;   // U8 (d_out, zeroRowBytes) or null
        private Tensor gIdx;          // I32 (d_in) or null

        private Builder(Arena arena, int dOut, int dIn, CodeWidth width, int groupSize, boolean symmetric) {
            if (dOut <= 0 || dIn <= 0 || groupSize <= 0) {
                throw new IllegalArgumentException("bad uniform shape (" + dOut + ", " + dIn + ") group " + groupSize);
            }
            this.arena = arena;
            this.dOut = dOut;
            this.dIn = dIn;
            this.width = width;
            this.groupSize = groupSize;
            this.symmetric = symmetric;
            int ng = groups(dIn, groupSize);
            this.qweight = Tensor.allocate(arena, DType.U8, Shape.matrix(dOut, width.rowBytes(dIn)));
            this.scales = Tensor.allocate(arena, DType.F16, Shape.matrix(dOut, ng));
            this.zeros = symmetric ? null : Tensor.allocate(arena, DType.U8, Shape.matrix(dOut, width.rowBytes(ng)));
        }

        public Builder setCode(int j, int i, int q) {
            BitPacking.set(qweight.segment(), j * width.rowBytes(dIn), i, width.bits, q);
            return this;
        }

        /** Row {@code j}'s codes from {@code codes[off..off+d_in)}. */
        public Builder setCodes(int j, int[] codes, int off) {
            MemorySegment row = qweight.segment().asSlice(j * width.rowBytes(dIn), width.rowBytes(dIn));
            row.fill((byte) 0);
            BitPacking.packRow(row, 0, dIn, width.bits, codes, off);
            return this;
        }

        /** Stores {@code s} rounded to F16 (see {@link #roundScale}). */
        public Builder setScale(int j, int g, float s) {
            scales.setFloat((long) j * groups(dIn, groupSize) + g, s);
            return this;
        }

        /** Every row's packed codes at once: (d_out, rowBytes) bytes. */
        void setAllCodes(byte[] packed) {
            MemorySegment.copy(packed, 0, qweight.segment(), ValueLayout.JAVA_BYTE, 0, packed.length);
        }

        /** Every scale at once, (d_out, n_groups), each rounded to F16 as {@link #setScale} does. */
        void setAllScales(float[] s) {
            int n = Math.multiplyExact(dOut, groups(dIn, groupSize));
            if (s.length < n) throw new IllegalArgumentException("scales need " + n + " entries, got " + s.length);
            short[] h = new short[n];
            for (int i = 0; i < n; i++) h[i] = Floats.f32ToF16(s[i]);
            MemorySegment.copy(h, 0, scales.segment(), Tensor.I16, 0, n);
        }

        /** Every row's packed zero points at once: (d_out, zeroRowBytes) bytes. */
        void setAllZeros(byte[] packed) {
            if (symmetric) throw new IllegalStateException("symmetric weights have no zero points");
            MemorySegment.copy(packed, 0, zeros.segment(), ValueLayout.JAVA_BYTE, 0, packed.length);
        }

        public Builder setZero(int j, int g, int z) {
            if (symmetric) {
                throw new IllegalStateException("symmetric weights have no zero points");
            }
            BitPacking.set(zeros.segment(), j * width.rowBytes(groups(dIn, groupSize)), g, width.bits, z);
            return this;
        }

        /** GPTQ act-order: input column i belongs to group gIdx[i] (d_in entries in [0, n_groups)). */
        public Builder setGroupIndex(int[] gIdx) {
            if (gIdx.length != dIn) {
                throw new IllegalArgumentException("g_idx needs " + dIn + " entries, got " + gIdx.length);
            }
            Tensor t = Tensor.allocate(arena, DType.I32, Shape.of(dIn));
            MemorySegment.copy(gIdx, 0, t.segment(), Tensor.I32, 0, dIn);
            this.gIdx = t;
            return this;
        }

        public UniformQuantized build() {
            return new UniformQuantized(dOut, dIn, width, groupSize, symmetric, qweight, scales, zeros, gIdx);
        }
    }
}
