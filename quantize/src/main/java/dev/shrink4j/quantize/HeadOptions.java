package dev.shrink4j.quantize;

import dev.shrink4j.tensors.ShrinkException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link HeadQuantizer} does to the output head and the token embedding: symmetric RTN
 * (docs/methods/rtn-gptq.md §1) with {@code groupSize} columns per F16 scale, or nothing (bits 0).
 * 4 and 8 bits only: with symmetric groups of 32 they are exactly GGUF's Q4_0 and Q8_0 blocks, so
 * {@code --format gguf} writes them as blocks; 2 and 3 bits cost the head far more than they save.
 *
 * @param headBits      bits of {@code lm_head}, 0 = kept as input
 * @param embeddingBits bits of {@code model.embed_tokens}, 0 = kept as input
 * @param groupSize     input (hidden) columns per scale, each row's groups on its own (32 by default)
 */
public record HeadOptions(int headBits, int embeddingBits, int groupSize) {
    /** The widths the head and the embedding may take. */
    public static final List<Integer> BITS = List.of(4, 8);
    public static final int DEFAULT_GROUP_SIZE = 32;

    public HeadOptions {
        if (headBits != 0 && !BITS.contains(headBits)) {
            throw new ShrinkException("--head-bits " + headBits + ": not supported (expected 4 or 8)");
        }
        if (embeddingBits != 0 && !BITS.contains(embeddingBits)) {
            throw new ShrinkException("--quantize-embeddings " + embeddingBits + ": not supported (expected 4 or 8)");
        }
        if (groupSize < 1) throw new ShrinkException("--head-group-size " + groupSize + " must be positive");
    }

    /** Head and embedding kept as the input has them. */
    public static HeadOptions none() {
        return new HeadOptions(0, 0, DEFAULT_GROUP_SIZE);
    }

    public boolean any() {
        return headBits != 0 || embeddingBits != 0;
    }

    /** The provenance entry ({@code shrink4j.provenance.head}). */
    public Map<String, Object> provenance(boolean tied) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", "rtn");
        if (headBits != 0) m.put("head_bits", headBits);
        if (embeddingBits != 0) m.put("embedding_bits", embeddingBits);
        m.put("group_size", groupSize);
        m.put("symmetric", true);
        if (tied) m.put("tied", "embeddings and head share one quantized table (model.embed_tokens)");
        return m;
    }
}
