package dev.shrink4j.tensors.formats;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Reads and writes little-endian packed codes (see {@link CodeWidth}) in a byte segment. These are
 * the scalar reference; the vector kernels read the same layout in whole words.
 */
public final class BitPacking {
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;

    private BitPacking() {}

    /** Code {@code i} of the row starting at byte {@code rowOffset}. */
    public static int get(MemorySegment seg, long rowOffset, long i, int bits) {
        long bit = i * bits;
        long at = rowOffset + (bit >>> 3);
        int shift = (int) (bit & 7);
        int v = seg.get(BYTE, at) & 0xFF;
        if (shift + bits > 8) {
            v |= (seg.get(BYTE, at + 1) & 0xFF) << 8;
        }
        return (v >>> shift) & ((1 << bits) - 1);
    }

    /** Stores code {@code q} (0 ≤ q < 2^bits) at position {@code i} of the row starting at {@code rowOffset}. */
    public static void set(MemorySegment seg, long rowOffset, long i, int bits, int q) {
        int mask = (1 << bits) - 1;
        if (q < 0 || q > mask) {
            throw new IllegalArgumentException("code " + q + " does not fit in " + bits + " bits");
        }
        long bit = i * bits;
        long at = rowOffset + (bit >>> 3);
        int shift = (int) (bit & 7);
        int lo = seg.get(BYTE, at) & 0xFF;
        lo = (lo & ~(mask << shift)) | (q << shift);
        seg.set(BYTE, at, (byte) lo);
        if (shift + bits > 8) {
            int hi = seg.get(BYTE, at + 1) & 0xFF;
            int rest = shift + bits - 8;
            hi = (hi & ~((1 << rest) - 1)) | (q >>> (8 - shift));
            seg.set(BYTE, at + 1, (byte) hi);
        }
    }

    /** Unpacks codes {@code [0, n)} of a row into {@code dst[0..n)}. */
    public static void unpackRow(MemorySegment seg, long rowOffset, int n, int bits, int[] dst) {
        switch (bits) {
            case 8 -> {
                for (int i = 0; i < n; i++) dst[i] = seg.get(BYTE, rowOffset + i) & 0xFF;
            }
            case 4 -> {
                int i = 0;
                for (; i + 1 < n; i += 2) {
                    int b = seg.get(BYTE, rowOffset + (i >>> 1));
                    dst[i] = b & 0xF;
                    dst[i + 1] = (b >>> 4) & 0xF;
                }
                if (i < n) dst[i] = seg.get(BYTE, rowOffset + (i >>> 1)) & 0xF;
            }
            case 2 -> {
                int i = 0;
                for (; i + 3 < n; i += 4) {
                    int b = seg.get(BYTE, rowOffset + (i >>> 2));
                    dst[i] = b & 3;
                    dst[i + 1] = (b >>> 2) & 3;
                    dst[i + 2] = (b >>> 4) & 3;
                    dst[i + 3] = (b >>> 6) & 3;
                }
                for (; i < n; i++) dst[i] = get(seg, rowOffset, i, 2);
            }
            default -> {
                for (int i = 0; i < n; i++) dst[i] = get(seg, rowOffset, i, bits);
            }
        }
    }

    /**
     * Packs the unsigned byte codes {@code src[srcOff..srcOff+n)} into {@code dst} from {@code dstOff}
     * (a zeroed row of {@code CodeWidth.rowBytes(n)} bytes): the same bytes as {@link #set} code by
     * code, without a bounds-checked segment access per code (whole-model RTN of a 1.1B model spent
     * 15 % of its time packing code by code). A code that does not fit in {@code bits} is refused.
     */
    public static void packRow(byte[] src, int srcOff, int n, int bits, byte[] dst, int dstOff) {
        int mask = (1 << bits) - 1, bad = 0, i = 0;
        switch (bits) {
            case 8 -> System.arraycopy(src, srcOff, dst, dstOff, n);
            case 4 -> {
                for (int o = dstOff; i + 1 < n; i += 2, o++) {
                    int a = src[srcOff + i] & 0xFF, b = src[srcOff + i + 1] & 0xFF;
                    bad |= a | b;
                    dst[o] = (byte) (a | b << 4);
                }
                if (i < n) {
                    int a = src[srcOff + i] & 0xFF;
                    bad |= a;
                    dst[dstOff + (i >>> 1)] = (byte) a;
                }
            }
            case 2 -> {
                for (int o = dstOff; i + 3 < n; i += 4, o++) {
                    int a = src[srcOff + i] & 0xFF, b = src[srcOff + i + 1] & 0xFF, c = src[srcOff + i + 2] & 0xFF, d = src[srcOff + i + 3] & 0xFF;
                    bad |= a | b | c | d;
                    dst[o] = (byte) (a | b << 2 | c << 4 | d << 6);
                }
                for (int k = 0; i < n; i++, k += 2) {
                    int a = src[srcOff + i] & 0xFF;
                    bad |= a;
                    dst[dstOff + (i >>> 2)] |= (byte) (a << k);
                }
            }
            default -> {
                // Little-endian bit stream: codes enter a 64-bit accumulator, whole bytes leave it.
                long acc = 0;
                int filled = 0, o = dstOff;
                for (; i < n; i++) {
                    int a = src[srcOff + i] & 0xFF;
                    bad |= a;
                    acc |= (long) a << filled;
                    filled += bits;
                    while (filled >= 8) {
                        dst[o++] = (byte) acc;
                        acc >>>= 8;
                        filled -= 8;
                    }
                }
                if (filled > 0) dst[o] = (byte) acc;
            }
        }
        if ((bad & ~mask) != 0) {
            for (int k = 0; k < n; k++) {
                if ((src[srcOff + k] & 0xFF) > mask) throw new IllegalArgumentException("code " + (src[srcOff + k] & 0xFF) + " does not fit in " + bits + " bits");
            }
        }
    }

    /** Packs {@code src[0..n)} into a zeroed row starting at {@code rowOffset}. */
    public static void packRow(MemorySegment seg, long rowOffset, int n, int bits, int[] src, int srcOff) {
        for (int i = 0; i < n; i++) {
            set(seg, rowOffset, i, bits, src[srcOff + i]);
        }
    }
}
