package dev.shrink4j.tensors;

/**
 * Exact conversions between F32 and the 16-bit float formats.
 *
 * <p>Widening (F16/BF16 → F32) is exact. Narrowing rounds to nearest, ties to even, and keeps NaN a NaN
 * (quiet) and ±Inf as ±Inf; F16 overflow becomes ±Inf and tiny values become F16 subnormals or ±0.
 */
public final class Floats {
    private Floats() {}

    public static float bf16ToF32(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    public static short f32ToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7FFFFFFF) > 0x7F800000) {
            // NaN: keep the sign and the top payload bits, force quiet so truncation cannot yield Inf.
            return (short) ((x >>> 16) | 0x0040);
        }
        // Round to nearest even on the 16 dropped bits: add 0x7FFF plus the lowest kept bit.
        int rounded = x + 0x7FFF + ((x >>> 16) & 1);
        return (short) (rounded >>> 16);
    }

    public static float f16ToF32(short bits) {
        return Float.float16ToFloat(bits);
    }

    public static short f32ToF16(float f) {
        // The JDK's conversion rounds to nearest even (IEEE 754 binary16), handles subnormals, Inf and NaN.
        return Float.floatToFloat16(f);
    }
}
