package dev.shrink4j.tensors.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The scalar reference of ggml's block formats ({@code ggml-quants.c}, {@code *_ref}): dequantize
 * every type shrink4j reads, quantize every block type it writes. This is the spec the block weight's
 * kernels and the export are tested against.
 */
public final class GgufBlocks {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GgufBlocks() {}

    static float half(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(HALF, off));
    }

    static int u8(MemorySegment s, long off) {
        return Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, off));
    }

    /**
     * Widens {@code n} elements starting at element {@code first} (a multiple of the block size) of a
     * tensor of {@code type} held in {@code src} into {@code dst[off..off+n)}.
     */
    public static void dequantize(GgufType type, MemorySegment src, long first, float[] dst, int off, int n) {
        long block = first / type.blockSize;
        long base = block * type.blockBytes;
        switch (type) {
            case F32 -> MemorySegment.copy(src, F32, first * 4, dst, off, n);
            case F16 -> { for (int i = 0; i < n; i++) dst[off + i] = half(src, (first + i) * 2); }
            case BF16 -> { for (int i = 0; i < n; i++) dst[off + i] = Float.intBitsToFloat(Short.toUnsignedInt(src.get(HALF, (first + i) * 2)) << 16); }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++, base += type.blockBytes) {
                    float d = half(src, base);
                    for (int j = 0; j < 16; j++) {
                        int q = u8(src, base + 2 + j);
                        dst[off + b * 32 + j] = ((q & 0xF) - 8) * d;
                        dst[off + b * 32 + j + 16] = ((q >>> 4) - 8) * d;
                    }
                }
            }
            case Q4_1 -> {
                for (int b = 0; b < n / 32; b++, base += type.blockBytes) {
                    float d = half(src, base), m = half(src, base + 2);
                    for (int j = 0; j < 16; j++) {
                        int q = u8(src, base + 4 + j);
                        dst[off + b * 32 + j] = (q & 0xF) * d + m;
                        dst[off + b * 32 + j + 16] = (q >>> 4) * d + m;
                    }
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++, base += type.blockBytes) {
                    float d = half(src, base);
                    for (int j = 0; j < 32; j++) dst[off + b * 32 + j] = src.get(ValueLayout.JAVA_BYTE, base + 2 + j) * d;
                }
            }
            case Q4_K -> { for (int b = 0; b < n / 256; b++, base += type.blockBytes) q4k(src, base, dst, off + b * 256); }
            case Q5_K -> { for (int b = 0; b < n / 256; b++, base += type.blockBytes) q5k(src, base, dst, off + b * 256); }
            case Q6_K -> { for (int b = 0; b < n / 256; b++, base += type.blockBytes) q6k(src, base, dst, off + b * 256); }
        }
    }

    // block_q4_K: half d, half dmin, u8 scales[12] (6-bit scale and min for 8 sub-blocks of 32), u8 qs[128].
    private static void q4k(MemorySegment s, long base, float[] y, int off) {
        float d = half(s, base), dmin = half(s, base + 2);
        long sc = base + 4, q = base + 16;
        int is = 0;
        for (int j = 0; j < 256; j += 64, q += 32, is += 2) {
            float d1 = d * scaleK4(s, sc, is, false), m1 = dmin * scaleK4(s, sc, is, true);
            float d2 = d * scaleK4(s, sc, is + 1, false), m2 = dmin * scaleK4(s, sc, is + 1, true);
            for (int l = 0; l < 32; l++) y[off + j + l] = d1 * (u8(s, q + l) & 0xF) - m1;
            for (int l = 0; l < 32; l++) y[off + j + 32 + l] = d2 * (u8(s, q + l) >>> 4) - m2;
        }
    }

    // block_q5_K: half d, half dmin, u8 scales[12] (as Q4_K), u8 qh[32] (bit 2i / 2i+1 of byte l: the 5th
    // bit of element 64i + l / 64i + 32 + l), u8 qs[128] (low nibbles, laid out as Q4_K).
    private static void q5k(MemorySegment s, long base, float[] y, int off) {
        float d = half(s, base), dmin = half(s, base + 2);
        long sc = base + 4, qh = base + 16, q = base + 48;
        int is = 0;
        for (int j = 0; j < 256; j += 64, q += 32, is += 2) {
            float d1 = d * scaleK4(s, sc, is, false), m1 = dmin * scaleK4(s, sc, is, true);
            float d2 = d * scaleK4(s, sc, is + 1, false), m2 = dmin * scaleK4(s, sc, is + 1, true);
            int lo = is, hi = is + 1; // bit positions in qh
            for (int l = 0; l < 32; l++) y[off + j + l] = d1 * ((u8(s, q + l) & 0xF) + (((u8(s, qh + l) >>> lo) & 1) << 4)) - m1;
            for (int l = 0; l < 32; l++) y[off + j + 32 + l] = d2 * ((u8(s, q + l) >>> 4) + (((u8(s, qh + l) >>> hi) & 1) << 4)) - m2;
        }
    }

    /** ggml's get_scale_min_k4: the 6-bit scale (or min) of sub-block j. */
    private static int scaleK4(MemorySegment s, long sc, int j, boolean min) {
        if (j < 4) return u8(s, sc + j + (min ? 4 : 0)) & 63;
        return min ? (u8(s, sc + j + 4) >>> 4) | ((u8(s, sc + j) >>> 6) << 4)
                   : (u8(s, sc + j + 4) & 0xF) | ((u8(s, sc + j - 4) >>> 6) << 4);
    }

    // block_q6_K: u8 ql[128] (low 4 bits), u8 qh[64] (high 2 bits), i8 scales[16], half d.
    private static void q6k(MemorySegment s, long base, float[] y, int off) {
        float d = half(s, base + 208);
        long ql = base, qh = base + 128, sc = base + 192;
        for (int n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int h = u8(s, qh + l);
                int q1 = ((u8(s, ql + l) & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((u8(s, ql + l + 32) & 0xF) | (((h >>> 2) & 3) << 4)) - 32;
                int q3 = ((u8(s, ql + l) >>> 4) | (((h >>> 4) & 3) << 4)) - 32;
                int q4 = ((u8(s, ql + l + 32) >>> 4) | (((h >>> 6) & 3) << 4)) - 32;
                y[off + n + l] = d * s.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                y[off + n + l + 32] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                y[off + n + l + 64] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                y[off + n + l + 96] = d * s.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
            }
        }
    }

    /**
     * ggml's reference quantization ({@code quantize_row_*_ref}) of {@code n} floats (a multiple of
     * the block size) into {@code dst} at byte {@code dstOff}. F32/F16/BF16 are plain conversions.
     */
    public static void quantize(GgufType type, float[] x, int off, int n, MemorySegment dst, long dstOff) {
        if (n % type.blockSize != 0) throw new IllegalArgumentException(n + " is not a multiple of the " + type + " block size");
        long o = dstOff;
        switch (type) {
            case F32 -> MemorySegment.copy(x, off, dst, F32, dstOff, n);
            case F16 -> { for (int i = 0; i < n; i++) dst.set(HALF, dstOff + 2L * i, Float.floatToFloat16(x[off + i])); }
            case BF16 -> { for (int i = 0; i < n; i++) dst.set(HALF, dstOff + 2L * i, bf16(x[off + i])); }
            case Q8_0 -> {
                for (int b = 0; b < n; b += 32, o += type.blockBytes) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[off + b + j]));
                    float d = amax / 127f, id = d != 0 ? 1f / d : 0f;
                    dst.set(HALF, o, Float.floatToFloat16(d));
                    for (int j = 0; j < 32; j++) dst.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) roundf(x[off + b + j] * id));
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n; b += 32, o += type.blockBytes) {
                    float amax = 0, max = 0;
                    for (int j = 0; j < 32; j++) {
                        float v = x[off + b + j];
                        if (amax < Math.abs(v)) { amax = Math.abs(v); max = v; }
                    }
                    float d = max / -8f, id = d != 0 ? 1f / d : 0f;
                    dst.set(HALF, o, Float.floatToFloat16(d));
                    for (int j = 0; j < 16; j++) {
                        int q0 = Math.min(15, (byte) (x[off + b + j] * id + 8.5f));
                        int q1 = Math.min(15, (byte) (x[off + b + j + 16] * id + 8.5f));
                        dst.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) (q0 | (q1 << 4)));
                    }
                }
            }
            case Q4_1 -> {
                for (int b = 0; b < n; b += 32, o += type.blockBytes) {
                    float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
                    for (int j = 0; j < 32; j++) { min = Math.min(min, x[off + b + j]); max = Math.max(max, x[off + b + j]); }
                    float d = (max - min) / 15f, id = d != 0 ? 1f / d : 0f;
                    dst.set(HALF, o, Float.floatToFloat16(d));
                    dst.set(HALF, o + 2, Float.floatToFloat16(min));
                    for (int j = 0; j < 16; j++) {
                        int q0 = Math.min(15, (byte) ((x[off + b + j] - min) * id + 0.5f));
                        int q1 = Math.min(15, (byte) ((x[off + b + j + 16] - min) * id + 0.5f));
                        dst.set(ValueLayout.JAVA_BYTE, o + 4 + j, (byte) (q0 | (q1 << 4)));
                    }
                }
            }
            default -> throw new IllegalArgumentException("shrink4j does not write " + type);
        }
    }

    /** C's roundf: half away from zero. */
    private static int roundf(float v) {
        return (int) (v < 0 ? -Math.floor(-v + 0.5f) : Math.floor(v + 0.5f));
    }

    /** Round-to-nearest-even BF16, as ggml's fp32_to_bf16 (NaN kept quiet). */
    static short bf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 64);
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }
}
