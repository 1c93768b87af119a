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
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorMask;
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
 * the same positions and permute. 4-bit codes of two chunks (L bytes) are loaded as one byte vector and
 * widened to ints; a constant {@code rearrange} gives each lane of either chunk the byte of its code and a
 * constant mask keeps the nibble in place (16·q on odd lanes, removed once per row). 8-bit codes: one chunk's
 * L bytes widened. (q − z)·x is summed per group in two accumulators and scaled by s once per group. The
 * first version broadcast and blended int words per chunk, with a division and two array reads per chunk and
 * its vector steps in helper methods that C2 did not always inline; in steady state it took ≈ 5× the F16 2:4
 * time, this one 1.4–1.6× (one JVM, under load; docs/formats.md). A gather or a shuffle from a scratch array
 * measured 8× slower than F16 2:4.
 */
final class PanamaFormatNm {
    private static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final IntVector SHIFTS;
    private static final IntVector RUN_BASE;
    private static final float TWO_112 = Math.scalb(1f, 112);
    // constant layouts: a layout built per access (withOrder) defeats C2's var-handle folding
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    // quantized values (4-bit: two chunks' codes per byte-vector load, see matvec4)
    private static final VectorSpecies<Byte> BS = L >= 8 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    private static final VectorShuffle<Integer> FIRST, SECOND; // lane l of chunk 0 / 1 → lane of the byte holding its code
    private static final IntVector NIBBLE;        // 0xF on even lanes, 0xF0 on odd lanes: code l kept in place
    private static final IntVector NIBBLE_SHIFT;  // 0 / 4: z put in place like the codes
    private static final FloatVector NIBBLE_SCALE; // 1 / 1/16: undoes the in-place factor
    private static final IntVector BYTE_SHIFT_4;  // one-chunk path: lane l → bit offset of the byte of code l in its word
    private static final IntVector FIELD_SHIFT_8; // 8-bit, L = 4: lane l → bit offset of code l in the word
    // lanes whose code sits in the chunk's second int word (the first is the broadcast start); a static final,
    // not an array, so C2 sees a constant (masks read from an array measured ~4× slower)
    private static final VectorMask<Integer> W4_1;
    // dense decode (GEMM panels): dense lane c of half h of a chunk is column c of run h·L/4 + ⌊c/4⌋, whose kept
    // values are chunk lanes EVEN_h[c] and EVEN_h[c] + 1; it takes the one whose position equals c mod 4
    private static final VectorShuffle<Float> EVEN_0, ODD_0, EVEN_1, ODD_1;
    private static final VectorShuffle<Integer> IEVEN_0, IODD_0, IEVEN_1, IODD_1;
    private static final IntVector COL_IN_RUN;

    static {
        int[] s = new int[L], b = new int[L], first = new int[L], second = new int[L];
        int[] nib = new int[L], nibShift = new int[L], byteShift = new int[L], f8 = new int[L];
        float[] nibScale = new float[L];
        boolean[] m4 = new boolean[L];
        for (int l = 0; l < L; l++) {
            s[l] = 2 * l;
            b[l] = 4 * (l / 2);
            first[l] = l / 2;
            second[l] = L / 2 + l / 2;
            nib[l] = l % 2 == 0 ? 0xF : 0xF0;
            nibShift[l] = 4 * (l % 2);
            nibScale[l] = l % 2 == 0 ? 1f : 1f / 16;
            byteShift[l] = 8 * (l / 2) % 32;
            f8[l] = 8 * l % 32;
            m4[l] = l / 8 == 1;
        }
        SHIFTS = IntVector.fromArray(IS, s, 0);
        RUN_BASE = IntVector.fromArray(IS, b, 0);
        FIRST = VectorShuffle.fromArray(IS, first, 0);
        SECOND = VectorShuffle.fromArray(IS, second, 0);
        NIBBLE = IntVector.fromArray(IS, nib, 0);
        NIBBLE_SHIFT = IntVector.fromArray(IS, nibShift, 0);
        NIBBLE_SCALE = FloatVector.fromArray(FS, nibScale, 0);
        BYTE_SHIFT_4 = IntVector.fromArray(IS, byteShift, 0);
        FIELD_SHIFT_8 = IntVector.fromArray(IS, f8, 0);
        W4_1 = VectorMask.fromArray(IS, m4, 0);
        int[][] e = new int[2][L], o = new int[2][L];
        int[] cr = new int[L];
        for (int h = 0; h < 2; h++) {
            for (int c = 0; c < L; c++) {
                e[h][c] = 2 * (h * L / 4 + c / 4);
                o[h][c] = e[h][c] + 1;
                cr[c] = c % 4;
            }
        }
        EVEN_0 = VectorShuffle.fromArray(FS, e[0], 0);
        ODD_0 = VectorShuffle.fromArray(FS, o[0], 0);
        EVEN_1 = VectorShuffle.fromArray(FS, e[1], 0);
        ODD_1 = VectorShuffle.fromArray(FS, o[1], 0);
        IEVEN_0 = VectorShuffle.fromArray(IS, e[0], 0);
        IODD_0 = VectorShuffle.fromArray(IS, o[0], 0);
        IEVEN_1 = VectorShuffle.fromArray(IS, e[1], 0);
        IODD_1 = VectorShuffle.fromArray(IS, o[1], 0);
        COL_IN_RUN = IntVector.fromArray(IS, cr, 0);
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

    /**
     * 2:4 with 4- or 8-bit codes, groups of a multiple of L kept values. 4-bit needs L ≥ 8 (a chunk's L/2
     * bytes are then whole int words for the one-chunk path); 8-bit loads a chunk as L bytes (L ≥ 8) or
     * one int word (L = 4).
     */
    static boolean supports(NmQuantized w) {
        UniformQuantized v = w.values();
        return w.n() == 2 && w.m() == 4 && (v.bits() == 4 || v.bits() == 8) && L * v.bits() >= 32 && L >= 4 && L <= 16
                && v.groupSize() % L == 0 && w.dIn() >= 2 * L;
    }

    static void matvec(NmQuantized w, float[] x, float[] y) {
        if (w.values().bits() == 4) matvec4(w, x, y);
        else matvec8(w, x, y);
    }

    /** Row j's group scales, widened in bulk (F16/BF16/F32 as stored) into s[0..n_groups). */
    private static void rowScales(UniformQuantized v, int j, float[] s) {
        Tensor sc = v.scales();
        int ng = v.nGroups();
        Convert.toF32(sc.dtype(), sc.segment(), (long) j * ng * sc.dtype().byteSize(), s, 0, ng);
    }

    /** Zero point of group g of the row whose packed zeros start at z0 (b = 4 or 8); symmetric: 2^(b−1). */
    private static int zeroAt(MemorySegment zs, long z0, int g, int bits) {
        if (zs == null) return 1 << (bits - 1);
        if (bits == 8) return zs.get(ValueLayout.JAVA_BYTE, z0 + g) & 0xFF;
        return (zs.get(ValueLayout.JAVA_BYTE, z0 + (g >> 1)) >>> ((g & 1) << 2)) & 15;
    }

    /**
     * 4-bit codes. (q − z)·x is summed in two accumulators (one per chunk of a pair, so the fma chains overlap)
     * with z and q in place (16·q − 16·z on odd lanes: exact integers, one {@code and} instead of a shift and an
     * {@code and}); at each group's end the pair of sums is scaled by s into the row total (one fma per group), and
     * the odd lanes' factor 16 is removed once per row. Groups of an even number of chunks run as one flat loop over
     * pairs with a countdown to the group's end; an odd last chunk joins the scalar tail. The loop body is written
     * out by hand: C2 refused to inline the vector helpers at some call sites ("callee is too large",
     * NodeCountInliningCutoff), which boxed vectors in the loop and made the kernel 4–5× slower than F16 2:4.
     */
    private static void matvec4(NmQuantized w, float[] x, float[] y) {
        UniformQuantized v = w.values();
        int kept = w.keptPerRow(), pairs = kept / (2 * L), perGroup = v.groupSize() / L, ng = v.nGroups();
        if (perGroup % 2 != 0) {
            groups4(w, x, y);
            return;
        }
        int half = perGroup / 2;
        MemorySegment codes = v.qweight().segment(), idx = w.indices().segment(), zs = v.symmetric() ? null : v.zeros().segment();
        long ib = w.indexRowBytes(), cb = v.rowBytes(), zb = v.width().rowBytes(ng);
        float[] s = new float[ng + 1]; // s[ng] = 0: the flush after a row's last whole group adds nothing
        FloatVector zero = FloatVector.zero(FS);
        for (int j = 0; j < w.dOut(); j++) {
            long i0 = j * ib, c0 = j * cb, z0 = j * zb;
            rowScales(v, j, s);
            FloatVector tot = zero, a = zero, b = zero;
            int g = 0, left = half;
            IntVector zv = IntVector.broadcast(IS, zs == null ? 8 : zs.get(ValueLayout.JAVA_BYTE, z0) & 15).lanewise(VectorOperators.LSHL, NIBBLE_SHIFT);
            for (int p = 0; p < pairs; p++) {
                int t = 2 * p, xo = t * 2 * L;
                IntVector q = (IntVector) ByteVector.fromMemorySegment(BS, codes, c0 + (long) p * L, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0);
                IntVector pa = IntVector.broadcast(IS, indexWord(idx, i0 + (long) t * L / 4)).lanewise(VectorOperators.LSHR, SHIFTS).and(3).or(RUN_BASE);
                IntVector pb = IntVector.broadcast(IS, indexWord(idx, i0 + (long) (t + 1) * L / 4)).lanewise(VectorOperators.LSHR, SHIFTS).and(3).or(RUN_BASE);
                FloatVector xa = pa.selectFrom(FloatVector.fromArray(FS, x, xo).reinterpretAsInts(), FloatVector.fromArray(FS, x, xo + L).reinterpretAsInts()).reinterpretAsFloats();
                FloatVector xb = pb.selectFrom(FloatVector.fromArray(FS, x, xo + 2 * L).reinterpretAsInts(), FloatVector.fromArray(FS, x, xo + 3 * L).reinterpretAsInts()).reinterpretAsFloats();
                a = ((FloatVector) q.rearrange(FIRST).and(NIBBLE).sub(zv).convert(VectorOperators.I2F, 0)).fma(xa, a);
                b = ((FloatVector) q.rearrange(SECOND).and(NIBBLE).sub(zv).convert(VectorOperators.I2F, 0)).fma(xb, b);
                if (--left == 0) {
                    tot = a.add(b).fma(FloatVector.broadcast(FS, s[g]), tot);
                    a = zero;
                    b = zero;
                    left = half;
                    if (++g < ng) {
                        int zg = zs == null ? 8 : (zs.get(ValueLayout.JAVA_BYTE, z0 + (g >> 1)) >>> ((g & 1) << 2)) & 15;
                        zv = IntVector.broadcast(IS, zg).lanewise(VectorOperators.LSHL, NIBBLE_SHIFT);
                    }
                }
            }
            tot = a.add(b).fma(FloatVector.broadcast(FS, s[g]), tot);
            y[j] = Lanes.sum(tot.mul(NIBBLE_SCALE)) + tail(w, j, pairs * 2 * L, s, zs, z0, x);
        }
    }

    /** 4-bit codes, groups of an odd number of chunks: one chunk at a time (its L/8 int words broadcast and blended). */
    private static void groups4(NmQuantized w, float[] x, float[] y) {
        UniformQuantized v = w.values();
        int kept = w.keptPerRow(), chunks = kept / L, perGroup = v.groupSize() / L, ng = v.nGroups();
        MemorySegment codes = v.qweight().segment(), idx = w.indices().segment(), zs = v.symmetric() ? null : v.zeros().segment();
        long ib = w.indexRowBytes(), cb = v.rowBytes(), zb = v.width().rowBytes(ng);
        float[] s = new float[ng];
        FloatVector zero = FloatVector.zero(FS);
        for (int j = 0; j < w.dOut(); j++) {
            long i0 = j * ib, c0 = j * cb, z0 = j * zb;
            rowScales(v, j, s);
            FloatVector tot = zero;
            for (int g = 0, t = 0; t < chunks; g++) {
                int end = Math.min(chunks, t + perGroup);
                int zg = zs == null ? 8 : (zs.get(ValueLayout.JAVA_BYTE, z0 + (g >> 1)) >>> ((g & 1) << 2)) & 15;
                IntVector zv = IntVector.broadcast(IS, zg).lanewise(VectorOperators.LSHL, NIBBLE_SHIFT);
                FloatVector a = zero;
                for (; t < end; t++) {
                    long off = c0 + (long) t * L / 2;
                    IntVector qw = IntVector.broadcast(IS, codes.get(INT, off));
                    if (L == 16) qw = qw.blend(IntVector.broadcast(IS, codes.get(INT, off + 4)), W4_1);
                    IntVector pos = IntVector.broadcast(IS, indexWord(idx, i0 + (long) t * L / 4)).lanewise(VectorOperators.LSHR, SHIFTS).and(3).or(RUN_BASE);
                    int xo = t * 2 * L;
                    FloatVector xs = pos.selectFrom(FloatVector.fromArray(FS, x, xo).reinterpretAsInts(), FloatVector.fromArray(FS, x, xo + L).reinterpretAsInts()).reinterpretAsFloats();
                    a = ((FloatVector) qw.lanewise(VectorOperators.LSHR, BYTE_SHIFT_4).and(NIBBLE).sub(zv).convert(VectorOperators.I2F, 0)).fma(xs, a);
                }
                tot = a.fma(FloatVector.broadcast(FS, s[g]), tot);
            }
            y[j] = Lanes.sum(tot.mul(NIBBLE_SCALE)) + tail(w, j, chunks * L, s, zs, z0, x);
        }
    }

    /** 8-bit codes: a loop per group, one chunk (L bytes widened, or one int word's fields at L = 4) at a time. */
    private static void matvec8(NmQuantized w, float[] x, float[] y) {
        UniformQuantized v = w.values();
        int kept = w.keptPerRow(), chunks = kept / L, perGroup = v.groupSize() / L, ng = v.nGroups();
        MemorySegment codes = v.qweight().segment(), idx = w.indices().segment(), zs = v.symmetric() ? null : v.zeros().segment();
        long ib = w.indexRowBytes(), cb = v.rowBytes(), zb = v.width().rowBytes(ng);
        float[] s = new float[ng];
        FloatVector zero = FloatVector.zero(FS);
        for (int j = 0; j < w.dOut(); j++) {
            long i0 = j * ib, c0 = j * cb, z0 = j * zb;
            rowScales(v, j, s);
            FloatVector tot = zero;
            for (int g = 0, t = 0; t < chunks; g++) {
                int end = Math.min(chunks, t + perGroup);
                IntVector zv = IntVector.broadcast(IS, zs == null ? 128 : zs.get(ValueLayout.JAVA_BYTE, z0 + g) & 0xFF);
                FloatVector a = zero;
                for (; t < end; t++) {
                    long off = c0 + (long) t * L;
                    IntVector q = L >= 8
                            ? (IntVector) ByteVector.fromMemorySegment(BS, codes, off, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0)
                            : IntVector.broadcast(IS, codes.get(INT, off)).lanewise(VectorOperators.LSHR, FIELD_SHIFT_8).and(255);
                    IntVector pos = IntVector.broadcast(IS, indexWord(idx, i0 + (long) t * L / 4)).lanewise(VectorOperators.LSHR, SHIFTS).and(3).or(RUN_BASE);
                    int xo = t * 2 * L;
                    FloatVector xs = pos.selectFrom(FloatVector.fromArray(FS, x, xo).reinterpretAsInts(), FloatVector.fromArray(FS, x, xo + L).reinterpretAsInts()).reinterpretAsFloats();
                    a = ((FloatVector) q.sub(zv).convert(VectorOperators.I2F, 0)).fma(xs, a);
                }
                tot = a.fma(FloatVector.broadcast(FS, s[g]), tot);
            }
            y[j] = Lanes.sum(tot) + tail(w, j, chunks * L, s, zs, z0, x);
        }
    }


    /**
     * Dense row slice for the GEMM panels ({@link PanamaFormatNmGemm}): dst[off + c] = Ŵ[j, p0 + c] for the
     * whole chunks of [p0, p0 + len) (p0 a multiple of 2L), zeros between the kept values. Each chunk's values
     * s·(q − z) are decoded as in the matvec, then spread over its 2L columns in registers (two rearranges,
     * two compares and two blends per L columns). Returns the columns written; the caller widens the rest.
     */
    static int decodeDense(NmQuantized w, int j, int p0, int len, float[] s, float[] dst, int off) {
        UniformQuantized v = w.values();
        int bits = v.bits(), gs = v.groupSize(), ng = v.nGroups(), t0 = p0 / (2 * L), chunks = len / (2 * L);
        MemorySegment codes = v.qweight().segment(), idx = w.indices().segment(), zs = v.symmetric() ? null : v.zeros().segment();
        long i0 = j * w.indexRowBytes(), c0 = j * v.rowBytes(), z0 = j * v.width().rowBytes(ng);
        int g0 = t0 * L / gs, g1 = Math.min(ng, ((t0 + chunks) * L - 1) / gs + 1);
        if (chunks == 0) return 0;
        Tensor sc = v.scales();
        Convert.toF32(sc.dtype(), sc.segment(), ((long) j * ng + g0) * sc.dtype().byteSize(), s, 0, g1 - g0);
        for (int c = 0; c < chunks; c++) {
            int t = t0 + c, g = t * L / gs;
            IntVector qz;
            if (bits == 4) { // as groups4: the chunk's int words broadcast and blended, nibbles in place
                long cOff = c0 + (long) t * L / 2;
                IntVector qw = IntVector.broadcast(IS, codes.get(INT, cOff));
                if (L == 16) qw = qw.blend(IntVector.broadcast(IS, codes.get(INT, cOff + 4)), W4_1);
                qz = qw.lanewise(VectorOperators.LSHR, BYTE_SHIFT_4).and(NIBBLE).sub(IntVector.broadcast(IS, zeroAt(zs, z0, g, 4)).lanewise(VectorOperators.LSHL, NIBBLE_SHIFT));
            } else {
                long cOff = c0 + (long) t * L;
                IntVector q = L >= 8
                        ? (IntVector) ByteVector.fromMemorySegment(BS, codes, cOff, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0)
                        : IntVector.broadcast(IS, codes.get(INT, cOff)).lanewise(VectorOperators.LSHR, FIELD_SHIFT_8).and(255);
                qz = q.sub(zeroAt(zs, z0, g, 8));
            }
            FloatVector val = ((FloatVector) qz.convert(VectorOperators.I2F, 0)).mul(bits == 4 ? NIBBLE_SCALE.mul(s[g - g0]) : FloatVector.broadcast(FS, s[g - g0]));
            IntVector pos = IntVector.broadcast(IS, indexWord(idx, i0 + (long) t * L / 4)).lanewise(VectorOperators.LSHR, SHIFTS).and(3);
            int o = off + c * 2 * L;
            FloatVector zero = FloatVector.zero(FS);
            zero.blend(val.rearrange(EVEN_0), pos.rearrange(IEVEN_0).eq(COL_IN_RUN).cast(FS))
                    .blend(val.rearrange(ODD_0), pos.rearrange(IODD_0).eq(COL_IN_RUN).cast(FS)).intoArray(dst, o);
            zero.blend(val.rearrange(EVEN_1), pos.rearrange(IEVEN_1).eq(COL_IN_RUN).cast(FS))
                    .blend(val.rearrange(ODD_1), pos.rearrange(IODD_1).eq(COL_IN_RUN).cast(FS)).intoArray(dst, o + L);
        }
        return chunks * 2 * L;
    }

    /** Kept values from {@code from} to the row's end, scalar (the spec's terms). */
    private static float tail(NmQuantized w, int j, int from, float[] s, MemorySegment zs, long z0, float[] x) {
        int kept = w.keptPerRow();
        if (from == kept) return 0;
        UniformQuantized v = w.values();
        int[] cols = new int[kept];
        w.readColumns(j, cols);
        float sum = 0;
        for (int t = from; t < kept; t++) {
            int g = v.group(t);
            sum += s[g] * (v.code(j, t) - zeroAt(zs, z0, g, v.bits())) * x[cols[t]];
        }
        return sum;
    }
}
