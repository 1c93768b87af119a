package dev.shrink4j.model.gguf;

import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.model.WeightSource;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.GgufBlockWeight;
import dev.shrink4j.tensors.gguf.GgufFile;
import dev.shrink4j.tensors.gguf.GgufType;
import dev.shrink4j.tensors.io.Json;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A llama-architecture {@code .gguf} file as a checkpoint the runtime reads in place (no converted
 * copy): tensors under their Hugging Face names, the config and tokenizer from the metadata
 * ({@link LlamaGgufMetadata}). What each tensor type becomes:
 * <ul>
 *   <li>F32/F16/BF16: a zero-copy view of the mapped file;</li>
 *   <li>Q4_0/Q4_1/Q8_0 and Q4_K/Q5_K/Q6_K linears: a {@link GgufBlockWeight} over the mapped blocks,
 *       named in the config's {@code shrink4j.tensors} as format {@code gguf_blocks}, so
 *       {@code LlamaModel} builds a {@code CompressedLinear} and the Panama block kernels multiply the
 *       blocks in place (a Q4_K_M file's Q4_K and Q6_K projections and head alike);</li>
 *   <li>a block-typed embedding: in place as well, one row decoded per token
 *       ({@code LlamaModel.embeddingRow}); never widened whole.</li>
 * </ul>
 * <b>Q/K rows.</b> llama.cpp stores q_proj/k_proj rows in its adjacent-pair RoPE order
 * ({@link LlamaGgufNames#ggufToHfRows}); ours is rotate-half. Those two projections are copied once into
 * {@code arena} with their rows in our order (whole rows, bytes as they are: block rows are
 * self-contained, so F32 and Q4_0 alike are copied exactly). Folding the permutation into the RoPE
 * instead would save the copy — (q_dim + kv_dim)·hidden weights per layer, 1/8 of a TinyLlama layer's
 * bytes — but needs a second RoPE layout through attention, the KV cache, prefill, decode and the
 * batch generator, and would sum q·k in another order than the converted checkpoint; the copy keeps
 * one runtime and the same numbers.
 */
public final class GgufCheckpoint implements WeightSource {
    private final Path file;
    private final ModelConfig config;
    private final Map<String, Tensor> tensors;
    private final Map<GgufType, Integer> typesRead;
    private final long copiedBytes;

    private GgufCheckpoint(Path file, ModelConfig config, Map<String, Tensor> tensors, Map<GgufType, Integer> typesRead, long copiedBytes) {
        this.file = file;
        this.config = config;
        this.tensors = tensors;
        this.typesRead = typesRead;
        this.copiedBytes = copiedBytes;
    }

    /** Whether {@code path} is a GGUF file (by its magic). */
    public static boolean is(Path path) {
        return GgufFile.looksLikeGguf(path);
    }

    /**
     * Maps {@code file} into {@code arena} (shared: forward passes read from several threads); copies
     * (Q/K rows) live in the same arena.
     */
    public static GgufCheckpoint open(Path file, Arena arena) {
        GgufFile g = GgufFile.open(file, arena);
        LlamaGgufMetadata.requireLlama(g);
        int heads = LlamaGgufMetadata.heads(g), kvHeads = LlamaGgufMetadata.kvHeads(g);
        Map<String, Object> raw = LlamaGgufMetadata.config(g);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, Object> blockLinears = new LinkedHashMap<>();
        Map<GgufType, Integer> types = new EnumMap<>(GgufType.class);
        long copied = 0;
        for (GgufFile.TensorEntry e : g.tensors().values()) {
            String hf = LlamaGgufNames.toHf(e.name(), file);
            types.merge(e.type(), 1, Integer::sum);
            int ropeHeads = LlamaGgufNames.ropeHeads(hf, heads, kvHeads);
            if (inPlaceBlocks(e.type()) && (isLinear(hf) || hf.equals(EMBEDDING_WEIGHT))) {
                String module = hf.substring(0, hf.length() - ".weight".length());
                GgufBlockWeight w = g.weight(e.name());
                MemorySegment blocks = w.blocks();
                if (ropeHeads > 0) {
                    blocks = permutedRows(blocks, w.dOut(), w.rowBytes(), ropeHeads, arena);
                    copied += blocks.byteSize();
                }
                tensors.put(module + "." + GgufBlockWeight.FORMAT, Tensor.wrap(DType.U8, Shape.matrix(w.dOut(), w.rowBytes()), blocks));
                blockLinears.put(module, new GgufBlockWeight(w.type(), w.dOut(), w.dIn(), blocks).descriptor());
            } else if (isFloat(e.type()) && ropeHeads > 0) {
                Tensor t = g.tensor(e.name());
                int rows = Math.toIntExact(e.numel() / e.ne()[0]);
                Tensor p = Tensor.wrap(t.dtype(), t.shape(), permutedRows(t.segment(), rows, t.segment().byteSize() / rows, ropeHeads, arena));
                tensors.put(hf, p);
                copied += p.segment().byteSize();
            } else {
                Tensor t = LlamaGgufImport.hfTensor(g, e, ropeHeads, null, arena);
                if (!isFloat(e.type())) copied += t.segment().byteSize();
                tensors.put(hf, t);
            }
        }
        if (!blockLinears.isEmpty()) {
            Map<String, Object> sh = raw.get("shrink4j") instanceof Map<?, ?> m ? new LinkedHashMap<>(cast(m)) : new LinkedHashMap<>();
            Map<String, Object> all = sh.get("tensors") instanceof Map<?, ?> t ? new LinkedHashMap<>(cast(t)) : new LinkedHashMap<>();
            all.putAll(blockLinears);
            sh.put("tensors", all);
            raw.put("shrink4j", sh);
        }
        ModelConfig config = ModelConfig.parse(raw, file.toString());
        return new GgufCheckpoint(file, config, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(types), copied);
    }

    /** The model config of {@code file} (its metadata only; no tensor is read). */
    public static ModelConfig config(Path file) {
        try (Arena a = Arena.ofConfined()) {
            GgufFile g = GgufFile.open(file, a);
            LlamaGgufMetadata.requireLlama(g);
            return ModelConfig.parse(LlamaGgufMetadata.config(g), file.toString());
        }
    }

    /**
     * The tokenizer carried by {@code file} ({@code shrink4j.hf.tokenizer_json}); one line naming the
     * file when it carries none (GGUF files converted by llama.cpp hold only {@code tokenizer.ggml.*}).
     */
    public static Tokenizer tokenizer(Path file, ModelConfig config) {
        String tok, tokConfig;
        try (Arena a = Arena.ofConfined()) {
            GgufFile g = GgufFile.open(file, a);
            tok = LlamaGgufMetadata.tokenizerJson(g);
            tokConfig = LlamaGgufMetadata.tokenizerConfigJson(g);
        }
        if (tok == null) {
            throw new ShrinkException(file + ": no tokenizer in this GGUF file (shrink4j reads the " + LlamaGgufExport.HF_TOKENIZER_KEY
                    + " key that its own exports carry; llama.cpp's tokenizer.ggml.* keys are not read)");
        }
        return Tokenizer.parse(object(tok, file, LlamaGgufExport.HF_TOKENIZER_KEY),
                tokConfig == null ? null : object(tokConfig, file, LlamaGgufExport.HF_TOKENIZER_CONFIG_KEY), file, config);
    }

    public ModelConfig config() {
        return config;
    }

    /** Tensor count by GGUF type, as the file holds them. */
    public Map<GgufType, Integer> typesRead() {
        return typesRead;
    }

    /** Bytes copied off-heap at load: permuted Q/K rows (everything else is the mapped file). */
    public long copiedBytes() {
        return copiedBytes;
    }

    @Override public Set<String> names() {
        return tensors.keySet();
    }

    @Override public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new ShrinkException("tensor " + name + " not found in " + file);
        return t;
    }

    /** The file itself (messages name it); it has no sibling files. */
    @Override public Path directory() {
        return file;
    }

    /** Block types multiplied in place by the block kernels (every quantized type shrink4j reads). */
    private static boolean inPlaceBlocks(GgufType t) {
        return t.quantized();
    }

    private static boolean isFloat(GgufType t) {
        return t == GgufType.F32 || t == GgufType.F16 || t == GgufType.BF16;
    }

    /** The attention and MLP projections and the output head (not the embedding, not the norms). */
    /**
     * A block-typed embedding stays in place too: the model decodes one row per token from a compressed
     * table ({@code LlamaModel.embeddingRow}), so widening it at load (250 MiB of F32 for a TinyLlama
     * Q4_K_M file) bought nothing.
     */
    private static final String EMBEDDING_WEIGHT = "model.embed_tokens.weight";

    private static boolean isLinear(String hf) {
        return hf.equals("lm_head.weight") || hf.endsWith("_proj.weight");
    }

    /** A copy of (rows, rowBytes) with its rows in HF order. */
    private static MemorySegment permutedRows(MemorySegment src, int rows, long rowBytes, int ropeHeads, Arena arena) {
        int[] hfToGguf = LlamaGgufNames.hfToGgufRows(rows, ropeHeads);
        MemorySegment dst = arena.allocate((long) rows * rowBytes, 64);
        for (int r = 0; r < rows; r++) MemorySegment.copy(src, hfToGguf[r] * rowBytes, dst, r * rowBytes, rowBytes);
        return dst;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }

    private static Map<String, Object> object(String json, Path file, String key) {
        try {
            if (Json.parse(json) instanceof Map<?, ?> m) return cast(m);
        } catch (Json.JsonException e) {
            throw new ShrinkException(file + ": " + key + " is not valid JSON: " + e.getMessage());
        }
        throw new ShrinkException(file + ": " + key + " is not a JSON object");
    }
}
