package dev.shrink4j.tensors.formats;

/**
 * Widths of packed integer codes, declared as data (ggml style): how many codes fill how many bytes.
 * Codes are packed little-endian along a row: code {@code i} occupies bits {@code [i·b, (i+1)·b)} of
 * the row's bit stream, and stream bit {@code k} is bit {@code k % 8} of byte {@code k / 8}. Each
 * row starts on a byte boundary, so a row of {@code n} codes takes {@code ceil(n·b / 8)} bytes.
 */
public enum CodeWidth {
    INT2(2, 4, 1),
    INT3(3, 8, 3),
    INT4(4, 2, 1),
    INT8(8, 1, 1);

    /** Bits per code. */
    public final int bits;
    /** Codes in one whole packing unit. */
    public final int codesPerUnit;
    /** Bytes in one whole packing unit ({@code codesPerUnit · bits / 8}). */
    public final int bytesPerUnit;
    /** {@code 2^bits − 1}. */
    public final int maxCode;

    CodeWidth(int bits, int codesPerUnit, int bytesPerUnit) {
        this.bits = bits;
        this.codesPerUnit = codesPerUnit;
        this.bytesPerUnit = bytesPerUnit;
        this.maxCode = (1 << bits) - 1;
    }

    static {
        for (CodeWidth w : values()) {
            if (w.codesPerUnit * w.bits != w.bytesPerUnit * 8) {
                throw new AssertionError(w + ": " + w.codesPerUnit + " codes of " + w.bits + " bits do not fill " + w.bytesPerUnit + " bytes");
            }
        }
    }

    /** Bytes of one packed row of {@code n} codes. */
    public long rowBytes(long n) {
        return (n * bits + 7) / 8;
    }

    public static CodeWidth ofBits(int bits) {
        for (CodeWidth w : values()) {
            if (w.bits == bits) {
                return w;
            }
        }
        throw new IllegalArgumentException("unsupported code width " + bits + " bits; supported: 2, 3, 4, 8");
    }
}
