package dev.shrink4j.model.gguf;

import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.Formats;
import dev.shrink4j.tensors.formats.UniformQuantized;
import dev.shrink4j.tensors.gguf.GgufBlocks;
import dev.shrink4j.tensors.gguf.GgufMapping;
import dev.shrink4j.tensors.gguf.GgufType;
import dev.shrink4j.tensors.gguf.GgufValue;
import dev.shrink4j.tensors.gguf.GgufWriter;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.Json;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Writes a Hugging Face Llama-family checkpoint directory as one GGUF file llama.cpp loads
 * ({@code general.architecture = llama}): hyper-parameters as {@code llama.*} keys, the tokenizer as
 * {@code tokenizer.ggml.*}, tensors renamed ({@link LlamaGgufNames}) with Q/K rows permuted to
 * llama.cpp's RoPE layout. The HF {@code config.json}, {@code tokenizer.json} and
 * {@code tokenizer_config.json} also travel verbatim under {@code shrink4j.hf.*} so that
 * {@link LlamaGgufImport} restores them exactly.
 */
public final class LlamaGgufExport {
    public static final String HF_CONFIG_KEY = "shrink4j.hf.config_json";
    public static final String HF_TOKENIZER_KEY = "shrink4j.hf.tokenizer_json";
    public static final String HF_TOKENIZER_CONFIG_KEY = "shrink4j.hf.tokenizer_config_json";

    private LlamaGgufExport() {}

    /**
     * Writes {@code hfDir} to {@code out}.
     *
     * @param typeOf the GGUF type of each HF tensor given its source dtype; 1-D tensors that come
     *               back block-quantized are written F32 (llama.cpp keeps norms in F32)
     */
    public static void write(Path hfDir, Path out, boolean force, BiFunction<String, Tensor, GgufType> typeOf) {
        ModelConfig cfg = ModelConfig.load(hfDir);
        if (!cfg.architecture().equals("LlamaForCausalLM") && !cfg.architecture().equals("MistralForCausalLM")) {
            throw new ShrinkException(hfDir + ": GGUF export supports LlamaForCausalLM and MistralForCausalLM, not " + cfg.architecture());
        }
        if (!cfg.ropeScaling().type().equals("none")) {
            throw new ShrinkException(hfDir + ": rope_scaling " + cfg.ropeScaling().type() + " is not exported to GGUF yet");
        }
        if (!cfg.attentionRemoved().isEmpty() || java.util.Arrays.stream(cfg.intermediateSizes()).distinct().count() > 1) {
            throw new ShrinkException(hfDir + ": structurally pruned checkpoints (per-layer shapes) are not exported to GGUF yet");
        }
        if (!cfg.compressedTensors().isEmpty()) {
            throw new ShrinkException(hfDir + ": a compressed shrink4j checkpoint; export it with `shrink4j quantize IN OUT --format gguf` instead");
        }
        try (Arena mapped = Arena.ofShared(); GgufWriter w = new GgufWriter(out, force)) {
            Checkpoint ckpt = Checkpoint.open(hfDir, mapped);
            List<String> names = ckpt.names();
            GgufType fileType = null;
            List<Runnable> tensors = new ArrayList<>();
            for (String hf : names) {
                String gg = LlamaGgufNames.toGguf(hf).orElseThrow(() -> new ShrinkException(hfDir + ": tensor \"" + hf + "\" has no llama.cpp counterpart"));
                Tensor t = ckpt.tensor(hf);
                GgufType type = typeOf.apply(hf, t);
                if (t.shape().rank() == 1 && type.quantized()) type = GgufType.F32;
                if (t.shape().rank() == 2 && fileType == null) fileType = type;
                GgufType ty = type;
                tensors.add(() -> addTensor(w, gg, ty, t, LlamaGgufNames.ropeHeads(hf, cfg.numHeads(), cfg.numKvHeads())));
            }
            metadata(w, hfDir, cfg, fileType == null ? GgufType.F32 : fileType);
            tokenizer(w, hfDir, cfg);
            tensors.forEach(Runnable::run);
            w.commit();
        }
    }

    /**
     * Writes a quantized shrink4j checkpoint ({@code compressedDir}, produced from {@code hfInput}) as
     * GGUF: each uniform linear whose codes are ggml blocks ({@link GgufMapping}) is written as those
     * blocks, every other linear dequantized to F32 (exact values, larger file), the rest as stored.
     * Metadata and tokenizer come from the dense input, so the file imports as a plain checkpoint.
     *
     * @return one note per kind of weight that was not written as blocks, and per inexact Q4_1 offset
     */
    public static List<String> writeQuantized(Path hfInput, Path compressedDir, Path out, boolean force) {
        return writeQuantized(hfInput, compressedDir, out, force, GgufType.F32, null);
    }

    /**
     * As above, choosing the types of what is not our blocks: {@code fallback} for linears that do not
     * map (F32 keeps their values exactly; F16 rounds them), {@code embedding} for
     * {@code token_embd}/{@code output} (null keeps their dtype). {@code (F16, Q8_0)} is what
     * llama.cpp's own Q4_0/Q4_1 quantization picks on the demo, for comparisons at equal size.
     */
    public static List<String> writeQuantized(Path hfInput, Path compressedDir, Path out, boolean force, GgufType fallback, GgufType embedding) {
        ModelConfig in = ModelConfig.load(hfInput);
        ModelConfig cfg = ModelConfig.load(compressedDir);
        Map<String, Map<String, Object>> compressed = cfg.compressedTensors();
        Map<String, Integer> fallbacks = new java.util.TreeMap<>();
        long inexact = 0;
        try (Arena mapped = Arena.ofShared(); GgufWriter w = new GgufWriter(out, force)) {
            Checkpoint ckpt = Checkpoint.open(compressedDir, mapped);
            Map<String, Tensor> all = new java.util.LinkedHashMap<>();
            for (String n : ckpt.names()) all.put(n, ckpt.tensor(n));
            Checkpoint dense = Checkpoint.open(hfInput, mapped);
            GgufType fileType = null;
            List<Runnable> adds = new ArrayList<>();
            long[] inexactBox = new long[1];
            for (String hf : dense.names()) {
                String gg = LlamaGgufNames.toGguf(hf).orElseThrow(() -> new ShrinkException(hfInput + ": tensor \"" + hf + "\" has no llama.cpp counterpart"));
                int ropeHeads = LlamaGgufNames.ropeHeads(hf, in.numHeads(), in.numKvHeads());
                String module = hf.endsWith(".weight") ? hf.substring(0, hf.length() - ".weight".length()) : null;
                if (module != null && compressed.containsKey(module)) {
                    CompressedWeight cw = Formats.fromTensors(module, compressed.get(module), all);
                    java.util.Optional<GgufType> t = cw instanceof UniformQuantized u ? GgufMapping.typeOf(u) : java.util.Optional.empty();
                    if (t.isPresent()) {
                        if (fileType == null) fileType = t.get();
                        UniformQuantized u = (UniformQuantized) cw;
                        adds.add(() -> inexactBox[0] += addBlocks(w, gg, t.get(), u, ropeHeads));
                    } else {
                        String why = cw instanceof UniformQuantized u ? GgufMapping.whyNot(u) : cw.format() + " format";
                        fallbacks.merge(why, 1, Integer::sum);
                        adds.add(() -> addDequantized(w, gg, cw, ropeHeads, fallback));
                    }
                } else {
                    Tensor t = ckpt.tensor(hf);
                    boolean embd = gg.equals("token_embd.weight") || gg.equals("output.weight");
                    GgufType ty = embd && embedding != null ? embedding : sameType(hf, t);
                    adds.add(() -> addTensor(w, gg, ty, t, ropeHeads));
                }
            }
            metadata(w, hfInput, in, fileType == null ? GgufType.F32 : fileType);
            tokenizer(w, hfInput, in);
            adds.forEach(Runnable::run);
            w.commit();
            inexact = inexactBox[0];
        }
        List<String> notes = new ArrayList<>();
        fallbacks.forEach((why, n) -> notes.add(n + " linear(s) written as " + fallback + " (dequantized" + (fallback == GgufType.F32 ? ", same values" : "") + "): " + why));
        if (inexact > 0) notes.add(inexact + " Q4_1 block(s) have an offset -s*z that F16 cannot hold exactly; stored rounded to the nearest F16");
        return notes;
    }

    private static long addBlocks(GgufWriter w, String name, GgufType type, UniformQuantized u, int ropeHeads) {
        try (Arena a = Arena.ofConfined()) {
            long rowBytes = type.bytes(u.dIn());
            MemorySegment hfBlocks = a.allocate(rowBytes * u.dOut());
            long inexact = GgufMapping.write(u, type, hfBlocks);
            MemorySegment dst = hfBlocks;
            if (ropeHeads > 0) {
                int[] hfRow = LlamaGgufNames.ggufToHfRows(u.dOut(), ropeHeads);
                dst = a.allocate(hfBlocks.byteSize());
                for (int r = 0; r < u.dOut(); r++) MemorySegment.copy(hfBlocks, hfRow[r] * rowBytes, dst, r * rowBytes, rowBytes);
            }
            w.add(name, type, new long[] {u.dOut(), u.dIn()}, dst);
            return inexact;
        }
    }

    private static void addDequantized(GgufWriter w, String name, CompressedWeight cw, int ropeHeads, GgufType type) {
        try (Arena a = Arena.ofConfined()) {
            addTensor(w, name, type, cw.dequantize(a), ropeHeads);
        }
    }

    /** Keeps every tensor's own float dtype (F32/F16/BF16) — the bit-exact conversion. */
    public static GgufType sameType(String name, Tensor t) {
        return switch (t.dtype()) {
            case F32 -> GgufType.F32;
            case F16 -> GgufType.F16;
            case BF16 -> GgufType.BF16;
            default -> throw new ShrinkException("tensor \"" + name + "\" is " + t.dtype() + "; GGUF export takes float tensors");
        };
    }

    private static void addTensor(GgufWriter w, String name, GgufType type, Tensor t, int ropeHeads) {
        long[] shape = t.shape().dims();
        boolean sameBytes = ropeHeads == 0 && (type == GgufType.F32 && t.dtype() == DType.F32
                || type == GgufType.F16 && t.dtype() == DType.F16 || type == GgufType.BF16 && t.dtype() == DType.BF16);
        if (sameBytes) {
            w.add(name, type, shape, t.segment());
            return;
        }
        int rows = shape.length == 1 ? 1 : Math.toIntExact(shape[0]);
        int cols = Math.toIntExact(t.numel() / rows);
        if (cols % type.blockSize != 0) {
            throw new ShrinkException("tensor \"" + name + "\": rows of " + cols + " are not a multiple of the " + type + " block size " + type.blockSize);
        }
        int[] hfRow = ropeHeads == 0 ? null : LlamaGgufNames.ggufToHfRows(rows, ropeHeads);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dst = a.allocate(type.bytes(t.numel()));
            float[] row = new float[cols];
            long rowBytes = type.bytes(cols);
            for (int r = 0; r < rows; r++) {
                int src = hfRow == null ? r : hfRow[r];
                t.readFloats((long) src * cols, row, 0, cols);
                GgufBlocks.quantize(type, row, 0, cols, dst, r * rowBytes);
            }
            w.add(name, type, shape, dst);
        }
    }

    private static void metadata(GgufWriter w, Path hfDir, ModelConfig c, GgufType fileType) {
        w.put("general.architecture", GgufValue.string("llama"));
        w.put("general.name", GgufValue.string(hfDir.toAbsolutePath().normalize().getFileName().toString()));
        w.put("general.file_type", GgufValue.u32(fileTypeId(fileType)));
        w.put("llama.context_length", GgufValue.u32(c.maxPositions()));
        w.put("llama.embedding_length", GgufValue.u32(c.hiddenSize()));
        w.put("llama.block_count", GgufValue.u32(c.numLayers()));
        w.put("llama.feed_forward_length", GgufValue.u32(c.intermediateSize(0)));
        w.put("llama.attention.head_count", GgufValue.u32(c.numHeads()));
        w.put("llama.attention.head_count_kv", GgufValue.u32(c.numKvHeads()));
        w.put("llama.attention.key_length", GgufValue.u32(c.headDim()));
        w.put("llama.attention.value_length", GgufValue.u32(c.headDim()));
        w.put("llama.rope.dimension_count", GgufValue.u32(c.headDim()));
        w.put("llama.rope.freq_base", GgufValue.f32(c.ropeTheta()));
        w.put("llama.attention.layer_norm_rms_epsilon", GgufValue.f32(c.rmsNormEps()));
        w.put("llama.vocab_size", GgufValue.u32(c.vocabSize()));
        for (String[] f : new String[][] {{"config.json", HF_CONFIG_KEY}, {"tokenizer.json", HF_TOKENIZER_KEY}, {"tokenizer_config.json", HF_TOKENIZER_CONFIG_KEY}}) {
            Path p = hfDir.resolve(f[0]);
            if (Files.isRegularFile(p)) w.put(f[1], GgufValue.string(read(p)));
        }
    }

    /** llama.cpp's {@code enum llama_ftype} for a file whose matrices are mostly {@code t}. */
    static int fileTypeId(GgufType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("no llama_ftype for " + t);
        };
    }

    /**
     * {@code tokenizer.ggml.*} from {@code tokenizer.json}: SentencePiece-style BPE becomes llama.cpp's
     * "llama" (SPM) model with score = −(rank of the merge producing the token), so its greedy
     * highest-score merge order is HF's lowest-rank order; byte-level BPE becomes "gpt2" with the merges.
     */
    private static void tokenizer(GgufWriter w, Path hfDir, ModelConfig cfg) {
        Path file = hfDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            // Synthetic checkpoints have no tokenizer; llama.cpp still needs a vocabulary to load, so
            // each id gets a placeholder piece (ids in, logits out work; text does not).
            List<Object> tokens = new ArrayList<>(), scores = new ArrayList<>(), types = new ArrayList<>();
            for (int i = 0; i < cfg.vocabSize(); i++) {
                tokens.add("[id" + i + "]");
                scores.add(0.0);
                types.add(4L);
            }
            w.put("tokenizer.ggml.model", GgufValue.string("llama"));
            w.put("tokenizer.ggml.tokens", GgufValue.array(GgufValue.Type.STRING, tokens));
            w.put("tokenizer.ggml.scores", GgufValue.array(GgufValue.Type.FLOAT32, scores));
            w.put("tokenizer.ggml.token_type", GgufValue.array(GgufValue.Type.INT32, types));
            return;
        }
        Map<String, Object> root = asMap(Json.parse(read(file)), file);
        Map<String, Object> model = asMap(root.get("model"), file);
        Map<String, Object> vocab = asMap(model.get("vocab"), file);
        int n = cfg.vocabSize();
        String[] tokens = new String[n];
        long[] types = new long[n];
        for (Map.Entry<String, Object> e : vocab.entrySet()) {
            int id = Math.toIntExact((Long) e.getValue());
            if (id < n) {
                tokens[id] = e.getKey();
                types[id] = e.getKey().matches("<0x[0-9A-Fa-f]{2}>") ? 6 : 1;
            }
        }
        if (root.get("added_tokens") instanceof List<?> added) {
            for (Object o : added) {
                Map<String, Object> a = asMap(o, file);
                int id = Math.toIntExact((Long) a.get("id"));
                if (id >= n) continue;
                tokens[id] = (String) a.get("content");
                types[id] = Boolean.TRUE.equals(a.get("special")) ? 3 : 4;
            }
        }
        List<?> merges = model.get("merges") instanceof List<?> l ? l : List.of();
        List<String> mergeText = new ArrayList<>();
        Map<String, Integer> rankOf = new HashMap<>();
        for (int r = 0; r < merges.size(); r++) {
            Object m = merges.get(r);
            String s = m instanceof List<?> pair ? pair.get(0) + " " + pair.get(1) : (String) m;
            mergeText.add(s);
            rankOf.putIfAbsent(s.replace(" ", ""), r);
        }
        String unk = model.get("unk_token") instanceof String u ? u : null;
        List<Object> tokenList = new ArrayList<>(n), scores = new ArrayList<>(n), typeList = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if (tokens[i] == null) {
                tokens[i] = "[PAD" + i + "]";
                types[i] = 5;
            }
            if (tokens[i].equals(unk)) types[i] = 2;
            tokenList.add(tokens[i]);
            Integer rank = rankOf.get(tokens[i]);
            scores.add(rank == null ? 0.0 : (double) (float) -(rank + 1));
            typeList.add(types[i]);
        }
        boolean byteLevel = dev.shrink4j.model.Tokenizer.containsType(root.get("pre_tokenizer"), "ByteLevel")
                || dev.shrink4j.model.Tokenizer.containsType(root.get("decoder"), "ByteLevel");
        w.put("tokenizer.ggml.model", GgufValue.string(byteLevel ? "gpt2" : "llama"));
        if (byteLevel) w.put("tokenizer.ggml.pre", GgufValue.string("default"));
        w.put("tokenizer.ggml.tokens", GgufValue.array(GgufValue.Type.STRING, tokenList));
        if (!byteLevel) w.put("tokenizer.ggml.scores", GgufValue.array(GgufValue.Type.FLOAT32, scores));
        w.put("tokenizer.ggml.token_type", GgufValue.array(GgufValue.Type.INT32, typeList));
        if (byteLevel) w.put("tokenizer.ggml.merges", GgufValue.array(GgufValue.Type.STRING, mergeText));
        if (cfg.bosTokenId() >= 0) w.put("tokenizer.ggml.bos_token_id", GgufValue.u32(cfg.bosTokenId()));
        if (cfg.eosTokenIds().length > 0) w.put("tokenizer.ggml.eos_token_id", GgufValue.u32(cfg.eosTokenIds()[0]));
        if (unk != null && vocab.get(unk) instanceof Long u) w.put("tokenizer.ggml.unknown_token_id", GgufValue.u32(u));
        w.put("tokenizer.ggml.add_bos_token", GgufValue.bool(cfg.bosTokenId() >= 0));
        w.put("tokenizer.ggml.add_eos_token", GgufValue.bool(false));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o, Path file) {
        if (o instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw new ShrinkException(file + ": expected a JSON object");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new ShrinkException(p + ": cannot read: " + e.getMessage(), e);
        }
    }
}
