package dev.shrink4j.quantize;

import dev.shrink4j.model.CompressedLinear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Linear;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.UniformGrid;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Data-free RTN (docs/methods/rtn-gptq.md §1) of the output head {@code lm_head} (vocab, hidden) and
 * the token embedding {@code model.embed_tokens} (vocab, hidden), whatever method quantized the
 * linears: symmetric, groups of {@link HeadOptions#groupSize} along each row, as llama.cpp quantizes
 * them by default. Why RTN and not the linears' method: the embedding is a lookup, not a product, so
 * there are no input statistics for a data-aware method to use; the head's would need a pass over the
 * calibration set for one layer that 8-bit RTN already keeps within ~0.4 % of its weights, and RTN
 * keeps the head independent of the calibration text.
 *
 * <p>Tied embeddings (no {@code lm_head} stored, {@code tie_word_embeddings}): the one table is
 * quantized once, as {@code model.embed_tokens}, and the runtime reads it for both roles; the head
 * and the embedding then cannot have different widths (refused with one line).
 *
 * <p>The table is read and quantized {@link #CHUNK_ROWS} rows at a time, so the heap holds one chunk
 * (TinyLlama's 32000 × 2048 head: 2 MB of floats at a time, not 262 MB).
 */
public final class HeadQuantizer {
    /** Rows read, quantized and packed at a time. */
    static final int CHUNK_ROWS = 256;
    public static final String HEAD = "lm_head";
    public static final String EMBEDDING = "model.embed_tokens";

    private HeadQuantizer() {}

    /** Reads rows [j0, j0 + rows) of a (vocab, hidden) table as F32 into dst (rows·hidden), Modified. */
    @FunctionalInterface
    interface Rows {
        void read(int j0, int rows, float[] dst);
    }

    /** The tables {@code o} asks for, quantized into {@code arena}, by module name (none when {@code o} asks for nothing). */
    public static Map<String, UniformQuantized> quantize(LlamaModel model, HeadOptions o, Arena arena) {
        Map<String, UniformQuantized> r = new LinkedHashMap<>();
        if (!o.any()) return r;
        int vocab = model.config().vocabSize(), d = model.config().hiddenSize();
        if (model.headTied()) {
            if (o.headBits() != 0 && o.embeddingBits() != 0 && o.headBits() != o.embeddingBits()) {
                throw new ShrinkException("--head-bits " + o.headBits() + " and --quantize-embeddings " + o.embeddingBits()
                        + ": this model ties its head to its embeddings (tie_word_embeddings, no lm_head stored), so one table holds both;"
                        + " give one width");
            }
            int bits = Math.max(o.headBits(), o.embeddingBits());
            r.put(EMBEDDING, rtn(embeddingRows(model), vocab, d, bits, o.groupSize(), arena));
            return r;
        }
        if (o.headBits() != 0) r.put(HEAD, rtn(headRows(model.lmHead()), vocab, d, o.headBits(), o.groupSize(), arena));
        if (o.embeddingBits() != 0) r.put(EMBEDDING, rtn(embeddingRows(model), vocab, d, o.embeddingBits(), o.groupSize(), arena));
        return r;
    }

    private static Rows embeddingRows(LlamaModel model) {
        int d = model.config().hiddenSize();
        Tensor dense = model.embedding();
        if (dense != null) return (j0, rows, dst) -> dense.readFloats((long) j0 * d, dst, 0, rows * d);
        return (j0, rows, dst) -> { // a compressed input's table, decoded row by row
            for (int r = 0; r < rows; r++) model.embeddingRow(j0 + r, dst, r * d);
        };
    }

    private static Rows headRows(Linear head) {
        int d = head.inFeatures();
        if (head instanceof CompressedLinear cl) { // a compressed input: requantized from its values
            return (j0, rows, dst) -> {
                for (int r = 0; r < rows; r++) cl.compressed().dequantizeRow(j0 + r, dst, r * d);
            };
        }
        Tensor w = head.weight(null); // dense: the stored tensor, no copy
        return (j0, rows, dst) -> w.readFloats((long) j0 * d, dst, 0, rows * d);
    }

    /** Symmetric RTN of a (n, d) table, chunk by chunk, packed into {@code arena}. */
    static UniformQuantized rtn(Rows rows, int n, int d, int bits, int groupSize, Arena arena) {
        int gs = UniformGrid.effectiveGroupSize(groupSize, d);
        int ng = UniformQuantized.groups(d, gs);
        UniformQuantized.Builder b = UniformQuantized.builder(arena, n, d, bits, gs, true);
        int chunk = Math.min(CHUNK_ROWS, n);
        float[] w = new float[chunk * d]; // (chunk, d)
        byte[] codes = new byte[chunk * d];
        float[] scales = new float[chunk * ng];
        byte[] zeros = new byte[chunk * ng];
        int[] q = new int[d];
        for (int j0 = 0; j0 < n; j0 += chunk) {
            int m = Math.min(chunk, n - j0);
            rows.read(j0, m, w);
            UniformGrid.rtn(w, m, d, bits, gs, true, codes, scales, zeros);
            for (int r = 0; r < m; r++) {
                for (int i = 0; i < d; i++) q[i] = codes[r * d + i] & 0xFF;
                b.setCodes(j0 + r, q, 0);
                for (int g = 0; g < ng; g++) b.setScale(j0 + r, g, scales[r * ng + g]);
            }
        }
        return b.build();
    }
}
