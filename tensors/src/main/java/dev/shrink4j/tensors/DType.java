package dev.shrink4j.tensors;

import java.util.Locale;
import java.util.Optional;

/**
 * Element types a {@link Tensor} can hold, with their safetensors names.
 *
 * <p>Packed sub-byte formats (int2/3/4 codes) are not element types: they live as raw {@code U8}
 * tensors inside the compressed weight formats, which define their own layouts.
 */
public enum DType {
    F32("F32", 4, true),
    F16("F16", 2, true),
    BF16("BF16", 2, true),
    F64("F64", 8, true),
    I8("I8", 1, false),
    U8("U8", 1, false),
    I16("I16", 2, false),
    I32("I32", 4, false),
    I64("I64", 8, false),
    BOOL("BOOL", 1, false);

    private final String safetensorsName;
    private final int byteSize;
    private final boolean floating;

    DType(String safetensorsName, int byteSize, boolean floating) {
        this.safetensorsName = safetensorsName;
        this.byteSize = byteSize;
        this.floating = floating;
    }

    /** The dtype string used in safetensors headers, e.g. {@code "BF16"}. */
    public String safetensorsName() {
        return safetensorsName;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloating() {
        return floating;
    }

    /** Parses a safetensors dtype name; empty for names shrink4j does not know. */
    public static Optional<DType> fromSafetensors(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** Parses a user-facing name such as {@code bf16} or {@code F32}. */
    public static DType parse(String name) {
        return fromSafetensors(name.toUpperCase(Locale.ROOT))
                .orElseThrow(() -> new IllegalArgumentException("unknown dtype '" + name + "'; known: F32, F16, BF16, F64, I8, U8, I16, I32, I64, BOOL"));
    }
}
