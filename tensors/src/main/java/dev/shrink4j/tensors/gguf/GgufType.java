package dev.shrink4j.tensors.gguf;

import java.util.Optional;

/**
 * The ggml tensor types shrink4j reads and writes, declared as data the way {@code ggml-common.h}
 * declares them: the ggml type id, elements per block and bytes per block. Ids not listed here are
 * refused by the reader with their number.
 */
public enum GgufType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 2 + 16, true),      // half d; 16 bytes of nibbles: x = (q − 8)·d
    Q4_1(3, 32, 2 + 2 + 16, true),  // half d, half m; 16 bytes of nibbles: x = q·d + m
    Q8_0(8, 32, 2 + 32, true),      // half d; 32 int8: x = q·d
    Q4_K(12, 256, 2 + 2 + 12 + 128, false),      // read only: half d, dmin; 6-bit scales/mins; nibbles
    Q5_K(13, 256, 2 + 2 + 12 + 32 + 128, false), // read only: as Q4_K plus one high bit per weight
    Q6_K(14, 256, 128 + 64 + 16 + 2, false),     // read only: 4+2-bit codes, int8 scales per 16, half d
    BF16(30, 1, 2, true);

    /** ggml's {@code enum ggml_type} value. */
    public final int id;
    /** Elements per block (1 for plain floats); ne[0] must be a multiple of it. */
    public final int blockSize;
    /** Bytes per block. */
    public final int blockBytes;
    /** Whether shrink4j can write it. */
    public final boolean writable;

    GgufType(int id, int blockSize, int blockBytes, boolean writable) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
        this.writable = writable;
    }

    static {
        // ggml-common.h's static_asserts, restated.
        check(Q4_0, 18);
        check(Q4_1, 20);
        check(Q8_0, 34);
        check(Q4_K, 144);
        check(Q5_K, 176);
        check(Q6_K, 210);
    }

    private static void check(GgufType t, int bytes) {
        if (t.blockBytes != bytes) throw new AssertionError(t + " block is " + t.blockBytes + " bytes, ggml says " + bytes);
    }

    /** Whether this is a block-quantized type (not F32/F16/BF16). */
    public boolean quantized() {
        return blockSize > 1;
    }

    /** Exact bits per weight. */
    public double bitsPerWeight() {
        return 8.0 * blockBytes / blockSize;
    }

    /** Bytes of {@code numel} elements; {@code numel} must be a multiple of the block size. */
    public long bytes(long numel) {
        return Math.multiplyExact(numel / blockSize, (long) blockBytes);
    }

    public static Optional<GgufType> byId(int id) {
        for (GgufType t : values()) if (t.id == id) return Optional.of(t);
        return Optional.empty();
    }

    public static Optional<GgufType> byName(String name) {
        for (GgufType t : values()) if (t.name().equalsIgnoreCase(name)) return Optional.of(t);
        return Optional.empty();
    }
}
