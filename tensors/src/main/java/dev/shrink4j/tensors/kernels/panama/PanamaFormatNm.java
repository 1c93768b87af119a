package dev.shrink4j.tensors.kernels.panama;

import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.FS;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.IS;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.L;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.LE;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.NmQuantized;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * 2:4 sparsity with F16 values on vectors, gather-free: L kept values cover 2·L input columns (L/2
 * runs of 4), so the activations they need sit in two vectors and one two-table permute picks them.
 * The lane indices come from one word of packed 2-bit positions: broadcast, per-lane shift by 2·l,
 * mask, plus the run base 4·⌊l/2⌋. F16 values are widened in registers (exact for finite values:
 * the 15 magnitude bits shifted into an F32 are the value times 2^−112).
 *
 * <p>Quantized kept values ({@link NmQuantized}, 4- or 8-bit codes, groups a multiple of L kept values):
 * the same positions and permute; the L codes of a chunk (L·b bits, whole int words) are read as up to
 * L/4 ints, broadcast and blended so each lane holds its word ({@code WORD_k} masks; a gather or a
 * shuffle from a scratch array measured 8× slower than F16 2:4), and shifts its field down ({@code FIELD_SHIFT}),
 * then v = (q − z)·s with the chunk's group's z and s broadcast: one fma per chunk, as for F16.
 */
final class PanamaFormatNm {
    private static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final IntVector SHIFTS;
    private static final IntVector RUN_BASE;
    private static final float TWO_112 = Math.scalb(1f, 112);
    // constant layouts: a layout built per access (withOrder) defeats C2's var-handle folding
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    private static final IntVector FIELD_SHIFT_4, FIELD_SHIFT_8; // lane l → bit offset of code l in its int word
    // lanes whose code sits in int word k of the chunk (word 0 is the broadcast start); static finals, not an
    // array, so C2 sees constants (masks read from an array measured ~4× slower)
    private static final VectorMask<Integer> W4_1, W8_1, W8_2, W8_3;

    static {
        int[] s = new int[L], b = new int[L];
        int[] f4 = new int[L], f8 = new int[L];
        boolean[][] m4 = new boolean[4][L], m8 = new boolean[4][L];
        for (int l = 0; l < L; l++) {
            s[l] = 2 * l;
            b[l] = 4 * (l / 2);
            f4[l] = 4 * l % 32;
            f8[l] = 8 * l % 32;
            m4[Math.min(3, 4 * l / 32)][l] = true;
            m8[Math.min(3, 8 * l / 32)][l] = true;
        }
        SHIFTS = IntVector.fromArray(IS, s, 0);
        RUN_BASE = IntVector.fromArray(IS, b, 0);
        FIELD_SHIFT_4 = IntVector.fromArray(IS, f4, 0);
        FIELD_SHIFT_8 = IntVector.fromArray(IS, f8, 0);
        W4_1 = VectorMask.fromArray(IS, m4[1], 0);
        W8_1 = VectorMask.fromArray(IS, m8[1], 0);
        W8_2 = VectorMask.fromArray(IS, m8[2], 0);
        W8_3 = VectorMask.fromArray(IS, m8[3], 0);
    }

    private PanamaFormatNm() {}

    static boolean supports(NmSparse w) {
        return w.n() == 2 && w.m() == 4 && w.values().dtype() == DType.F16 && L >= 4 && L <= 16 && w.dIn() >= 2 * L;
    }

    /** L/4 bytes of packed 2-bit positions (L ≤ 16) as the low bits of an int. */
    private static int indexWord(MemorySegment seg, long off) {
        return switch (L) {
            case 16 -> seg.get(INT, off);
            case 8 -> seg.get(SHORT, off) & 0xFFFF;
            default -> seg.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
        };
    }

    static void matvec(NmSparse w, float[] x, float[] y) {
        int dIn = w.dIn(), kept = w.keptPerRow(), chunks = dIn / (2 * L);
        MemorySegment vals = w.values().segment(), idx = w.indices().segment();
        long ib = w.indexRowBytes();
        for (int j = 0; j < w.dOut(); j++) {
            long v0 = (long) j * kept * 2, i0 = j * ib;
            FloatVector acc = FloatVector.zero(FS);
            for (int t = 0; t < chunks; t++) {
                IntVector h = (IntVector) ShortVector.fromMemorySegment(SS, vals, v0 + 2L * t * L, LE).convertShape(VectorOperators.S2I, IS, 0);
                FloatVector mag = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(TWO_112);
                FloatVector v = mag.reinterpretAsInts().or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
                IntVector pos = IntVector.broadcast(IS, indexWord(idx, i0 + (long) t * L / 4)).lanewise(VectorOperators.LSHR, SHIFTS).and(3).add(RUN_BASE);
                int xo = t * 2 * L;
                IntVector xs = pos.selectFrom(FloatVector.fromArray(FS, x, xo).reinterpretAsInts(), FloatVector.fromArray(FS, x, xo + L).reinterpretAsInts());
                acc = v.fma(xs.reinterpretAsFloats(), acc);
            }
            float s = Lanes.sum(acc);
            for (int t = chunks * L; t < kept; t++) {
                int col = (t / 2) * 4 + ((idx.get(ValueLayout.JAVA_BYTE, i0 + t / 4) >>> (2 * (t % 4))) & 3);
                s += Float.float16ToFloat(vals.getAtIndex(Tensor.I16, (long) j * kept + t)) * x[col];
            }
            y[j] = s;
        }
    }

    /** 2:4, 4- or 8-bit codes in whole int words per chunk (L·b ≥ 32), groups of a multiple of L kept values. */
    static boolean supports(NmQuantized w) {
        UniformQuantized v = w.values();
        return w.n() == 2 && w.m() == 4 && (v.bits() == 4 || v.bits() == 8) && L * v.bits() >= 32 && L >= 4 && L <= 16
                && v.groupSize() % L == 0 && w.dIn() >= 2 * L;
    }

    static void matvec(NmQuantized w, float[] x, float[] y) {
        if (w.values().bits() == 4) matvec4(w, x, y);
        else matvec8(w, x, y);
    }

    /** The chunk's L 4-bit codes, one per lane: L/8 int words (L·4 bits). */
    private static IntVector codes4(MemorySegment codes, long off) {
        IntVector qw = IntVector.broadcast(IS, codes.get(INT, off));
        if (L == 16) qw = qw.blend(IntVector.broadcast(IS, codes.get(INT, off + 4)), W4_1);
        return qw.lanewise(VectorOperators.LSHR, FIELD_SHIFT_4).and(15);
    }

    /** The chunk's L 8-bit codes, one per lane: L/4 int words. */
    private static IntVector codes8(MemorySegment codes, long off) {
        IntVector qw = IntVector.broadcast(IS, codes.get(INT, off));
        if (L >= 8) qw = qw.blend(IntVector.broadcast(IS, codes.get(INT, off + 4)), W8_1);
        if (L == 16) {
            qw = qw.blend(IntVector.broadcast(IS, codes.get(INT, off + 8)), W8_2).blend(IntVector.broadcast(IS, codes.get(INT, off + 12)), W8_3);
        }
        return qw.lanewise(VectorOperators.LSHR, FIELD_SHIFT_8).and(255);
    }

    private static void matvec4(NmQuantized w, float[] x, float[] y) {
        UniformQuantized v = w.values();
        int kept = w.keptPerRow(), chunks = kept / L, perGroup = v.groupSize() / L;
        MemorySegment codes = v.qweight().segment(), idx = w.indices().segment();
        long ib = w.indexRowBytes(), cb = v.rowBytes();
        float[] s = new float[v.nGroups()];
        int[] z = new int[v.nGroups()];
        for (int j = 0; j < w.dOut(); j++) {
            long i0 = j * ib, c0 = j * cb;
            v.readScales(j, s);
            v.readZeros(j, z);
            FloatVector acc = FloatVector.zero(FS);
            for (int t = 0; t < chunks; t++) {
                int g = t / perGroup;
                FloatVector val = ((FloatVector) codes4(codes, c0 + (long) t * L / 2).sub(z[g]).convert(VectorOperators.I2F, 0)).mul(s[g]);
                acc = val.fma(activations(idx, i0, t, x), acc);
            }
            y[j] = Lanes.sum(acc) + tail(w, j, chunks * L, s, z, x);
        }
    }

    private static void matvec8(NmQuantized w, float[] x, float[] y) {
        UniformQuantized v = w.values();
        int kept = w.keptPerRow(), chunks = kept / L, perGroup = v.groupSize() / L;
        MemorySegment codes = v.qweight().segment(), idx = w.indices().segment();
        long ib = w.indexRowBytes(), cb = v.rowBytes();
        float[] s = new float[v.nGroups()];
        int[] z = new int[v.nGroups()];
        for (int j = 0; j < w.dOut(); j++) {
            long i0 = j * ib, c0 = j * cb;
            v.readScales(j, s);
            v.readZeros(j, z);
            FloatVector acc = FloatVector.zero(FS);
            for (int t = 0; t < chunks; t++) {
                int g = t / perGroup;
                FloatVector val = ((FloatVector) codes8(codes, c0 + (long) t * L).sub(z[g]).convert(VectorOperators.I2F, 0)).mul(s[g]);
                acc = val.fma(activations(idx, i0, t, x), acc);
            }
            y[j] = Lanes.sum(acc) + tail(w, j, chunks * L, s, z, x);
        }
    }

    /** The activations of chunk t's kept values: its 2·L input columns, permuted by the packed positions. */
    private static FloatVector activations(MemorySegment idx, long i0, int t, float[] x) {
        IntVector pos = IntVector.broadcast(IS, indexWord(idx, i0 + (long) t * L / 4)).lanewise(VectorOperators.LSHR, SHIFTS).and(3).add(RUN_BASE);
        int xo = t * 2 * L;
        return pos.selectFrom(FloatVector.fromArray(FS, x, xo).reinterpretAsInts(), FloatVector.fromArray(FS, x, xo + L).reinterpretAsInts())
                .reinterpretAsFloats();
    }

    /** Kept values from {@code from} to the row's end, scalar (the spec's terms). */
    private static float tail(NmQuantized w, int j, int from, float[] s, int[] z, float[] x) {
        int kept = w.keptPerRow();
        if (from == kept) return 0;
        UniformQuantized v = w.values();
        int[] cols = new int[kept];
        w.readColumns(j, cols);
        float sum = 0;
        for (int t = from; t < kept; t++) {
            int g = v.group(t);
            sum += s[g] * (v.code(j, t) - z[g]) * x[cols[t]];
        }
        return sum;
    }
}
