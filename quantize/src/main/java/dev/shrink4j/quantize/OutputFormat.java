package dev.shrink4j.quantize;

import dev.shrink4j.tensors.ShrinkException;

/** What {@code shrink4j quantize --format} writes (DESIGN.md "Checkpoint formats written"). */
public enum OutputFormat {
    /** Compressed tensors + config.json with the {@code shrink4j} block; the library runtime loads it. */
    SHRINK4J("shrink4j"),
    /** Dequantized weights in the input's dtype: any Hugging Face loader reads it. */
    DENSE("dense"),
    /** jlama's Q4 layout (symmetric int4, 32-element blocks) for jlama 0.8.4. */
    JLAMA_Q4("jlama-q4"),
    /** One GGUF file llama.cpp loads: uniform int4/int8 g32 codes as Q4_0/Q4_1/Q8_0 blocks (model module's LlamaGgufExport). */
    GGUF("gguf"),
    /** compressed-tensors pack-quantized (vLLM's W4A16/W8A16) for symmetric int4/int8 ({@link CompressedTensorsExport}). */
    COMPRESSED_TENSORS("compressed-tensors");

    private final String cliName;

    OutputFormat(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    public static OutputFormat parse(String s) {
        for (OutputFormat f : values()) if (f.cliName.equals(s)) return f;
        throw new ShrinkException("unknown --format '" + s + "'; expected shrink4j, dense, jlama-q4, gguf or compressed-tensors");
    }
}
