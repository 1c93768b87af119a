package dev.shrink4j.model.gguf;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.gguf.GgufFile;
import dev.shrink4j.tensors.gguf.GgufType;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a llama-architecture GGUF file as a Hugging Face checkpoint directory: tensors renamed back,
 * Q/K rows un-permuted, F32/F16/BF16 tensors copied bit for bit (unless {@code dtype} asks for
 * another), block-quantized tensors dequantized ({@code dtype}, F32 by default). {@code config.json}
 * and the tokenizer files come from the {@code shrink4j.hf.*} keys when the file carries them (our
 * exports, and llama.cpp's re-quantizations of them, which copy every key); otherwise config.json is
 * rebuilt from the {@code llama.*} keys and no tokenizer is written (said on the result).
 */
public final class LlamaGgufImport {
    private LlamaGgufImport() {}

    /** What was written. */
    public record Result(Path dir, int tensors, boolean tokenizer, Map<GgufType, Integer> typesRead) {}

    /** @param dtype target dtype for every tensor, or null to keep float tensors as they are and widen blocks to F32 */
    public static Result write(Path ggufPath, Path outDir, DType dtype, boolean force) {
        try (Arena mapped = Arena.ofShared()) {
            GgufFile g = GgufFile.open(ggufPath, mapped);
            LlamaGgufMetadata.requireLlama(g);
            int heads = LlamaGgufMetadata.heads(g), kvHeads = LlamaGgufMetadata.kvHeads(g);
            Map<GgufType, Integer> types = new LinkedHashMap<>();
            try (CheckpointWriter w = CheckpointWriter.create(outDir, CheckpointWriter.Options.defaults().withForce(force))) {
                for (GgufFile.TensorEntry e : g.tensors().values()) {
                    String hf = LlamaGgufNames.toHf(e.name(), ggufPath);
                    types.merge(e.type(), 1, Integer::sum);
                    int ropeHeads = LlamaGgufNames.ropeHeads(hf, heads, kvHeads);
                    try (Arena a = Arena.ofConfined()) {
                        w.add(hf, hfTensor(g, e, ropeHeads, dtype, a));
                    }
                }
                w.writeFile("config.json", LlamaGgufMetadata.configJson(g));
                String tok = LlamaGgufMetadata.tokenizerJson(g), tokConfig = LlamaGgufMetadata.tokenizerConfigJson(g);
                if (tok != null) w.writeFile("tokenizer.json", tok);
                if (tokConfig != null) w.writeFile("tokenizer_config.json", tokConfig);
                boolean tokenizer = tok != null;
                Path dir = w.commit();
                return new Result(dir, g.tensors().size(), tokenizer, types);
            }
        }
    }

    /** Tensor {@code e} in HF row order as {@code dtype} (null: float types kept, blocks widened to F32), in {@code a} unless it can stay a view. */
    static Tensor hfTensor(GgufFile g, GgufFile.TensorEntry e, int ropeHeads, DType dtype, Arena a) {
        boolean plain = e.type() == GgufType.F32 || e.type() == GgufType.F16 || e.type() == GgufType.BF16;
        if (plain && ropeHeads == 0 && (dtype == null || dtype == g.tensor(e.name()).dtype())) return g.tensor(e.name());
        DType target = dtype != null ? dtype : plain ? g.tensor(e.name()).dtype() : DType.F32;
        var weight = g.weight(e.name());
        int rows = weight.dOut(), cols = weight.dIn();
        int[] hfToGguf = ropeHeads > 0 ? LlamaGgufNames.hfToGgufRows(rows, ropeHeads) : null;
        Tensor out = Tensor.allocate(a, target, e.shape());
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            weight.dequantizeRow(hfToGguf == null ? r : hfToGguf[r], row, 0);
            out.writeFloats((long) r * cols, row, 0, cols);
        }
        return out;
    }
}
