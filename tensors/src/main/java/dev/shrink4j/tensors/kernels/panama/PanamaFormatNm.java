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
import jdk.incubator.vector.VectorShuffle;
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
 * L/4 ints, each lane picks its word ({@code WORD_OF}) and shifts its field down ({@code FIELD_SHIFT}),
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

    private static final VectorShuffle<Integer> WORD_OF_4, WORD_OF_8; // lane l → int word holding code l (4-, 8-bit)
    private static final IntVector FIELD_SHIFT_4, FIELD_SHIFT_8;     // lane l → bit offset of code l in its word

    static {
        int[] s = new int[L], b = new int[L];
        int[] w4 = new int[L], w8 = new int[L], f4 = new int[L], f8 = new int[L];
        for (int l = 0; l < L; l++) {
            s[l] = 2 * l;
            b[l] = 4 * (l / 2);
            w4[l] = 4 * l / 32;
            f4[l] = 4 * l % 32;
            w8[l] = 8 * l / 32;
            f8[l] = 8 * l % 32;
        }
        SHIFTS = IntVector.fromArray(IS, s, 0);
        RUN_BASE = IntVector.fromArray(IS, b, 0);
        WORD_OF_4 = VectorShuffle.fromArray(IS, w4, 0);
        WORD_OF_8 = VectorShuffle.fromArray(IS, w8, 0);
        FIELD_SHIFT_4 = IntVector.fromArray(IS, f4, 0);
        FIELD_SHIFT_8 = IntVector.fromArray(IS, f8, 0);
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
        UniformQuantized v = w.values();
        int bits = v.bits(), kept = w.keptPerRow(), chunks = kept / L, chunkWords = L * bits / 32, perGroup = v.groupSize() / L;
        VectorShuffle<Integer> wordOf = bits == 4 ? WORD_OF_4 : WORD_OF_8;
        IntVector fieldShift = bits == 4 ? FIELD_SHIFT_4 : FIELD_SHIFT_8;
        int mask = (1 << bits) - 1;
        MemorySegment codes = v.qweight().segment(), idx = w.indices().segment();
        long ib = w.indexRowBytes(), cb = v.rowBytes();
        int ng = v.nGroups();
        float[] s = new float[ng];
        int[] z = new int[ng];
        int[] words = new int[L];
        int[] cols = new int[kept];
        for (int j = 0; j < w.dOut(); j++) {
            long i0 = j * ib, c0 = j * cb;
            v.readScales(j, s);
            v.readZeros(j, z);
            FloatVector acc = FloatVector.zero(FS);
            for (int t = 0; t < chunks; t++) {
                for (int q = 0; q < chunkWords; q++) words[q] = codes.get(INT, c0 + ((long) t * chunkWords + q) * 4);
                IntVector qv = IntVector.fromArray(IS, words, 0).rearrange(wordOf).lanewise(VectorOperators.LSHR, fieldShift).and(mask);
                int g = t / perGroup;
                FloatVector val = ((FloatVector) qv.sub(z[g]).convert(VectorOperators.I2F, 0)).mul(s[g]);
                IntVector pos = IntVector.broadcast(IS, indexWord(idx, i0 + (long) t * L / 4)).lanewise(VectorOperators.LSHR, SHIFTS).and(3).add(RUN_BASE);
                int xo = t * 2 * L;
                IntVector xs = pos.selectFrom(FloatVector.fromArray(FS, x, xo).reinterpretAsInts(), FloatVector.fromArray(FS, x, xo + L).reinterpretAsInts());
                acc = val.fma(xs.reinterpretAsFloats(), acc);
            }
            float sum = Lanes.sum(acc);
            if (chunks * L < kept) {
                w.readColumns(j, cols);
                for (int t = chunks * L; t < kept; t++) {
                    int g = v.group(t);
                    sum += s[g] * (v.code(j, t) - z[g]) * x[cols[t]];
                }
            }
            y[j] = sum;
        }
    }
}
