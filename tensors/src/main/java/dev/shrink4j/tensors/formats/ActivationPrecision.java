package dev.shrink4j.tensors.formats;

/**
 * What a compressed linear multiplies its weights with: F32 activations, or activations quantized
 * to int8 per block of 32 ({@link Int8Activations}) and integer block dots. INT8 applies to uniform
 * 4- and 8-bit weights whose groups hold whole blocks of 32 (no act-order), including GGUF Q4_0/Q8_0
 * read as such; other formats keep F32 activations.
 */
public enum ActivationPrecision {
    F32,
    INT8;

    /** Parses {@code f32} or {@code int8} (any case); null for anything else. */
    public static ActivationPrecision parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "f32" -> F32;
            case "int8" -> INT8;
            default -> null;
        };
    }

    /** Whether {@code w} runs with int8 activations when asked (else it keeps F32). */
    public static boolean int8Supported(CompressedWeight w) {
        return w instanceof UniformQuantized u && u.gIdx() == null && (u.bits() == 4 || u.bits() == 8)
                && (u.groupSize() % Int8Activations.BLOCK == 0 || u.nGroups() == 1);
    }
}
