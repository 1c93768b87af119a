package dev.shrink4j.tensors.kernels.panama;

import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.FS;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.L;

import dev.shrink4j.tensors.formats.GgufBlockWeight;
import dev.shrink4j.tensors.gguf.GgufType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * y = Ŵ·x for ggml's 256-element "K-quant" super-blocks Q4_K, Q5_K and Q6_K with F32 activations,
 * reading the blocks in place. The scalar spec is {@code GgufBlocks.dequantize} (ggml's
 * {@code dequantize_row_q*_K}) followed by a dot product; unlike llama.cpp's CPU kernels nothing here
 * rounds x to Q8_K, so the result is the F32 dot product of the dequantized weights up to summation
 * order.
 *
 * <p>Layouts (ggml-common.h) and how they are read, L = float lanes (8 or 16), L bytes at a time
 * widened to int lanes:
 * <ul>
 *   <li>Q4_K (144 bytes): d, dmin, 12 bytes of 6-bit scales/mins for 8 sub-blocks of 32, 128 bytes of
 *       nibbles; byte l of the i-th 32-byte group holds element 64i + l (low) and 64i + 32 + l (high).
 *       ŵ = d·sc·q − dmin·m, so a sub-block costs Σq·x in one vector, one fma with d·sc into the row
 *       accumulator, and the min term dmin·m·Σx from sums of x per 32 computed once per call.</li>
 *   <li>Q5_K (176): as Q4_K, with 32 bytes qh in front of the nibbles: bit 2i (2i + 1) of qh[l] is the
 *       fifth bit of element 64i + l (64i + 32 + l).</li>
 *   <li>Q6_K (210): ql[128] low nibbles, qh[64] 2-bit high parts, int8 scales per 16 elements, d last.
 *       Per 128-element half, byte l of ql/qh gives elements l, l + 32, l + 64, l + 96 (ql[l + 32] for
 *       the second and fourth); codes are q − 32. An L-lane chunk never crosses a 16-element scale,
 *       so q·sc is formed per vector and d applied once per super-block.</li>
 * </ul>
 * Q4_K/Q5_K scales are unpacked four bytes at a time ({@link #unpackScales}; the matvec keeps them in
 * the packed ints, 8 % faster than going through an array); their 8 per-sub-block
 * fmas go to two accumulators so no one chain carries them all. The vector expressions are written
 * out in the loops on purpose: with small helper methods returning vectors (a byte-load-and-widen, a
 * scaled fma) C2 compiled the helper on its own first, then refused to inline it into the loop
 * ("already compiled into a big method"), and every vector crossing the call was boxed — Q6_K ran
 * 10× slower and allocated ~1.5 GB/s. Measured (4096 × 4096, one thread, same JVM, min of 30, AMD
 * EPYC under load): Q4_0 0.9 ms, Q4_K 1.6 ms, Q6_K 1.55 ms; the remaining Q4_K gap to Q4_0 is the
 * scalar scale/min work per super-block.
 */
final class PanamaFormatGgufK {
    private static final VectorSpecies<Byte> BS = L == 8 || L == 16 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * L)) : null;
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private PanamaFormatGgufK() {}

    static boolean supports(GgufBlockWeight w) {
        return BS != null && (w.type() == GgufType.Q4_K || w.type() == GgufType.Q5_K || w.type() == GgufType.Q6_K);
    }

    /** x (d_in), y (d_out), Modified. */
    static void matvec(GgufBlockWeight w, float[] x, float[] y) {
        int nb = w.dIn() / 256;
        MemorySegment src = w.blocks();
        long rowBytes = w.rowBytes();
        switch (w.type()) {
            case Q4_K, Q5_K -> {
                float[] xsum = sums32(x, w.dIn());
                boolean q5 = w.type() == GgufType.Q5_K;
                for (int j = 0; j < w.dOut(); j++) y[j] = q45Row(src, j * rowBytes, nb, x, xsum, q5);
            }
            case Q6_K -> { for (int j = 0; j < w.dOut(); j++) y[j] = q6Row(src, j * rowBytes, nb, x); }
            default -> throw new IllegalArgumentException(w.type() + " has no K-quant kernel");
        }
    }

    /** Σx over each 32 elements: (d_in / 32). */
    private static float[] sums32(float[] x, int n) {
        float[] s = new float[n / 32];
        for (int b = 0; b < s.length; b++) {
            float t = 0;
            for (int i = 0; i < 32; i++) t += x[32 * b + i];
            s[b] = t;
        }
        return s;
    }

    /** One row of Q4_K or Q5_K; the scales stay packed in four ints ({@link #unpackScales}' layout), two 6-bit values per sub-block pair. */
    private static float q45Row(MemorySegment src, long row, int nb, float[] x, float[] xsum, boolean q5) {
        int blockBytes = q5 ? 176 : 144;
        long qsOff = q5 ? 48 : 16;
        FloatVector acc = FloatVector.zero(FS), acc2 = FloatVector.zero(FS); // two chains: 8 fmas per super-block
        float mins = 0;
        long base = row;
        for (int b = 0; b < nb; b++, base += blockBytes) {
            float d = Float.float16ToFloat(src.get(HALF, base)), dmin = Float.float16ToFloat(src.get(HALF, base + 2));
            int a4 = src.get(I32, base + 4), b4 = src.get(I32, base + 8), c4 = src.get(I32, base + 12);
            int sc03 = a4 & 0x3F3F3F3F, m03 = b4 & 0x3F3F3F3F;
            int sc47 = (c4 & 0x0F0F0F0F) | (((a4 >>> 6) & 0x03030303) << 4);
            int m47 = ((c4 >>> 4) & 0x0F0F0F0F) | (((b4 >>> 6) & 0x03030303) << 4);
            int xb = 256 * b;
            for (int g = 0; g < 4; g++) {
                int sw = (g < 2 ? sc03 : sc47) >>> 16 * (g & 1), mw = (g < 2 ? m03 : m47) >>> 16 * (g & 1);
                long q = base + qsOff + 32L * g;
                FloatVector lo = FloatVector.zero(FS), hi = FloatVector.zero(FS);
                for (int c = 0; c < 32; c += L) {
                    IntVector v = (IntVector) ByteVector.fromMemorySegment(BS, src, q + c, LE).convertShape(VectorOperators.B2I, IS, 0);
                    IntVector ql = v.and(0xF), qh = v.lanewise(VectorOperators.LSHR, 4).and(0xF);
                    if (q5) {
                        IntVector h = (IntVector) ByteVector.fromMemorySegment(BS, src, base + 16 + c, LE).convertShape(VectorOperators.B2I, IS, 0);
                        ql = ql.or(h.lanewise(VectorOperators.LSHR, 2 * g).and(1).lanewise(VectorOperators.LSHL, 4));
                        qh = qh.or(h.lanewise(VectorOperators.LSHR, 2 * g + 1).and(1).lanewise(VectorOperators.LSHL, 4));
                    }
                    lo = ((FloatVector) ql.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xb + 64 * g + c), lo);
                    hi = ((FloatVector) qh.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(FS, x, xb + 64 * g + 32 + c), hi);
                }
                acc = lo.fma(FloatVector.broadcast(FS, d * (sw & 0xFF)), acc);
                acc2 = hi.fma(FloatVector.broadcast(FS, d * ((sw >>> 8) & 0xFF)), acc2);
                mins += dmin * (mw & 0xFF) * xsum[8 * b + 2 * g] + dmin * ((mw >>> 8) & 0xFF) * xsum[8 * b + 2 * g + 1];
            }
        }
        return Lanes.sum(acc.add(acc2)) - mins;
    }

    /**
     * The 8 six-bit scales and 8 mins of a Q4_K/Q5_K super-block (12 bytes at {@code at}) into
     * out[0..8) and out[8..16): {@code GgufBlocks.scaleK4}'s bit layout, four bytes at a time (bytes
     * 0–3: scales 0–3 and bits 6–7 of scales 4–7; 4–7: mins 0–3 and bits 6–7 of mins 4–7; 8–11: the low
     * nibbles of scales 4–7 and high nibbles of mins 4–7).
     */
    private static void unpackScales(MemorySegment src, long at, int[] out) {
        int a = src.get(I32, at), b = src.get(I32, at + 4), c = src.get(I32, at + 8);
        int sc03 = a & 0x3F3F3F3F, m03 = b & 0x3F3F3F3F;
        int sc47 = (c & 0x0F0F0F0F) | (((a >>> 6) & 0x03030303) << 4);
        int m47 = ((c >>> 4) & 0x0F0F0F0F) | (((b >>> 6) & 0x03030303) << 4);
        for (int i = 0; i < 4; i++) {
            out[i] = (sc03 >>> 8 * i) & 0xFF;
            out[4 + i] = (sc47 >>> 8 * i) & 0xFF;
            out[8 + i] = (m03 >>> 8 * i) & 0xFF;
            out[12 + i] = (m47 >>> 8 * i) & 0xFF;
        }
    }

    /** One row of Q6_K. */
    private static float q6Row(MemorySegment src, long row, int nb, float[] x) {
        FloatVector acc = FloatVector.zero(FS);
        long base = row;
        for (int b = 0; b < nb; b++, base += 210) {
            float d = Float.float16ToFloat(src.get(HALF, base + 208));
            FloatVector blk = FloatVector.zero(FS);
            for (int half = 0; half < 2; half++) {
                long ql = base + 64L * half, qh = base + 128 + 32L * half, sc = base + 192 + 8L * half;
                int xb = 256 * b + 128 * half;
                for (int c = 0; c < 32; c += L) {
                    int is = c / 16;
                    IntVector a = (IntVector) ByteVector.fromMemorySegment(BS, src, ql + c, LE).convertShape(VectorOperators.B2I, IS, 0), a2 = (IntVector) ByteVector.fromMemorySegment(BS, src, ql + 32 + c, LE).convertShape(VectorOperators.B2I, IS, 0), h = (IntVector) ByteVector.fromMemorySegment(BS, src, qh + c, LE).convertShape(VectorOperators.B2I, IS, 0);
                    IntVector q1 = a.and(0xF).or(h.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q2 = a2.and(0xF).or(h.lanewise(VectorOperators.LSHR, 2).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).and(0xF).or(h.lanewise(VectorOperators.LSHR, 4).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q4 = a2.lanewise(VectorOperators.LSHR, 4).and(0xF).or(h.lanewise(VectorOperators.LSHR, 6).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    // (q·sc)·x: |q·sc| ≤ 32·128, exact in float
                    blk = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul((float) src.get(ValueLayout.JAVA_BYTE, sc + is)).fma(FloatVector.fromArray(FS, x, xb + c), blk);
                    blk = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul((float) src.get(ValueLayout.JAVA_BYTE, sc + is + 2)).fma(FloatVector.fromArray(FS, x, xb + 32 + c), blk);
                    blk = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul((float) src.get(ValueLayout.JAVA_BYTE, sc + is + 4)).fma(FloatVector.fromArray(FS, x, xb + 64 + c), blk);
                    blk = ((FloatVector) q4.convert(VectorOperators.I2F, 0)).mul((float) src.get(ValueLayout.JAVA_BYTE, sc + is + 6)).fma(FloatVector.fromArray(FS, x, xb + 96 + c), blk);
                }
            }
            acc = blk.fma(FloatVector.broadcast(FS, d), acc);
        }
        return Lanes.sum(acc);
    }

    // ---------------------------------------------------------------- widening (the batched path)

    /**
     * Widens elements [first, first + len) of {@code w} (whole super-blocks: both multiples of 256) into
     * dst[off …]. Bit-identical to {@code GgufBlocks.dequantize}: the same float operations per element
     * (d·sc, then ·q and − dmin·m, no fused multiply-add), done L lanes at a time.
     */
    static void decode(GgufBlockWeight w, long first, int len, float[] dst, int off) {
        MemorySegment src = w.blocks();
        GgufType t = w.type();
        long base = first / 256 * t.blockBytes;
        int[] scales = new int[16];
        for (int b = 0; b < len / 256; b++, base += t.blockBytes, off += 256) {
            if (t == GgufType.Q6_K) decodeQ6(src, base, dst, off);
            else decodeQ45(src, base, t == GgufType.Q5_K, scales, dst, off);
        }
    }

    private static void decodeQ45(MemorySegment src, long base, boolean q5, int[] scales, float[] dst, int off) {
        float d = Float.float16ToFloat(src.get(HALF, base)), dmin = Float.float16ToFloat(src.get(HALF, base + 2));
        long qsOff = q5 ? 48 : 16;
        unpackScales(src, base + 4, scales);
        for (int g = 0; g < 4; g++) {
            FloatVector d1 = FloatVector.broadcast(FS, d * scales[2 * g]), m1 = FloatVector.broadcast(FS, dmin * scales[8 + 2 * g]);
            FloatVector d2 = FloatVector.broadcast(FS, d * scales[2 * g + 1]), m2 = FloatVector.broadcast(FS, dmin * scales[8 + 2 * g + 1]);
            for (int c = 0; c < 32; c += L) {
                IntVector v = (IntVector) ByteVector.fromMemorySegment(BS, src, base + qsOff + 32L * g + c, LE).convertShape(VectorOperators.B2I, IS, 0);
                IntVector ql = v.and(0xF), qh = v.lanewise(VectorOperators.LSHR, 4).and(0xF);
                if (q5) {
                    IntVector h = (IntVector) ByteVector.fromMemorySegment(BS, src, base + 16 + c, LE).convertShape(VectorOperators.B2I, IS, 0);
                    ql = ql.add(h.lanewise(VectorOperators.LSHR, 2 * g).and(1).lanewise(VectorOperators.LSHL, 4));
                    qh = qh.add(h.lanewise(VectorOperators.LSHR, 2 * g + 1).and(1).lanewise(VectorOperators.LSHL, 4));
                }
                ((FloatVector) ql.convert(VectorOperators.I2F, 0)).mul(d1).sub(m1).intoArray(dst, off + 64 * g + c);
                ((FloatVector) qh.convert(VectorOperators.I2F, 0)).mul(d2).sub(m2).intoArray(dst, off + 64 * g + 32 + c);
            }
        }
    }

    private static void decodeQ6(MemorySegment src, long base, float[] dst, int off) {
        float d = Float.float16ToFloat(src.get(HALF, base + 208));
        for (int half = 0; half < 2; half++) {
            long ql = base + 64L * half, qh = base + 128 + 32L * half, sc = base + 192 + 8L * half;
            int o = off + 128 * half;
            for (int c = 0; c < 32; c += L) {
                int is = c / 16;
                IntVector a = (IntVector) ByteVector.fromMemorySegment(BS, src, ql + c, LE).convertShape(VectorOperators.B2I, IS, 0), a2 = (IntVector) ByteVector.fromMemorySegment(BS, src, ql + 32 + c, LE).convertShape(VectorOperators.B2I, IS, 0), h = (IntVector) ByteVector.fromMemorySegment(BS, src, qh + c, LE).convertShape(VectorOperators.B2I, IS, 0);
                IntVector q1 = a.and(0xF).or(h.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q2 = a2.and(0xF).or(h.lanewise(VectorOperators.LSHR, 2).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q3 = a.lanewise(VectorOperators.LSHR, 4).and(0xF).or(h.lanewise(VectorOperators.LSHR, 4).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                IntVector q4 = a2.lanewise(VectorOperators.LSHR, 4).and(0xF).or(h.lanewise(VectorOperators.LSHR, 6).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                FloatVector.broadcast(FS, d * src.get(ValueLayout.JAVA_BYTE, sc + is)).mul((FloatVector) q1.convert(VectorOperators.I2F, 0)).intoArray(dst, o + c);
                FloatVector.broadcast(FS, d * src.get(ValueLayout.JAVA_BYTE, sc + is + 2)).mul((FloatVector) q2.convert(VectorOperators.I2F, 0)).intoArray(dst, o + 32 + c);
                FloatVector.broadcast(FS, d * src.get(ValueLayout.JAVA_BYTE, sc + is + 4)).mul((FloatVector) q3.convert(VectorOperators.I2F, 0)).intoArray(dst, o + 64 + c);
                FloatVector.broadcast(FS, d * src.get(ValueLayout.JAVA_BYTE, sc + is + 6)).mul((FloatVector) q4.convert(VectorOperators.I2F, 0)).intoArray(dst, o + 96 + c);
            }
        }
    }
}
