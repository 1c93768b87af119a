package dev.shrink4j.model;

import dev.shrink4j.tensors.ShrinkException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Text ↔ token ids. Two families are implemented from {@code tokenizer.json}: SentencePiece-style BPE
 * with byte fallback (Llama-2, Mistral, the demo model) and byte-level BPE (GPT-2, Llama-3, Qwen2).
 * Added special tokens written literally in the text are not split out; they are encoded as text.
 */
public interface Tokenizer {
    /** Token ids of {@code text}, with the model's BOS first when {@code addBos}. */
    int[] encode(String text, boolean addBos);

    /** The text of {@code ids}, special tokens (BOS, EOS, …) omitted. */
    String decode(int[] ids);

    /** Number of token ids (including added tokens). */
    int vocabSize();

    /** BOS id, or -1 when the tokenizer has none. */
    int bosId();

    /**
     * Loads {@code dir/tokenizer.json}; {@code config} supplies the BOS id when the tokenizer files
     * do not name one. A {@code .gguf} file stands for a directory: its carried tokenizer is read.
     */
    static Tokenizer load(Path dir, ModelConfig config) {
        if (dev.shrink4j.model.gguf.GgufCheckpoint.is(dir)) return dev.shrink4j.model.gguf.GgufCheckpoint.tokenizer(dir, config);
        Path file = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new ShrinkException("no tokenizer.json in " + dir);
        }
        Map<String, Object> root = JsonFields.readObject(file);
        Path tc = dir.resolve("tokenizer_config.json");
        Map<String, Object> tokConfig = Files.isRegularFile(tc) ? JsonFields.readObject(tc) : null;
        return parse(root, tokConfig, file, config);
    }

    /**
     * A tokenizer from the parsed {@code tokenizer.json} ({@code root}) and {@code tokenizer_config.json}
     * (nullable); {@code file} names the source in messages.
     */
    static Tokenizer parse(Map<String, Object> root, Map<String, Object> tokConfig, Path file, ModelConfig config) {
        Map<String, Object> model = JsonFields.object(root, "model");
        if (!JsonFields.text(model, "type", "BPE").equals("BPE")) {
            throw new ShrinkException(file + ": unsupported tokenizer model " + JsonFields.text(model, "type", "") + "; supported: BPE");
        }
        BpeVocabulary vocab = BpeVocabulary.parse(root, file);
        int bos = config != null ? config.bosTokenId() : -1;
        if (tokConfig != null) {
            Object b = tokConfig.get("bos_token");
            String content = b == null ? null : b instanceof Map<?, ?> ? JsonFields.text(b, "content", "") : JsonFields.text(b, null);
            if (content != null && vocab.id(content) >= 0) {
                bos = vocab.id(content);
            }
        }
        boolean byteLevel = containsType(root.get("pre_tokenizer"), "ByteLevel") || containsType(root.get("decoder"), "ByteLevel");
        return byteLevel ? ByteLevelBpeTokenizer.create(root, vocab, bos, file) : SentencePieceBpeTokenizer.create(root, vocab, bos);
    }

    /** Whether {@code node} (possibly a Sequence) contains a component of {@code type}. */
    static boolean containsType(Object node, String type) {
        if (!(node instanceof Map<?, ?>)) {
            return false;
        }
        if (type.equals(JsonFields.text(node, "type", ""))) {
            return true;
        }
        for (String key : new String[] {"pretokenizers", "normalizers", "decoders"}) {
            for (Object c : JsonFields.list(node, key)) {
                if (containsType(c, type)) return true;
            }
        }
        return false;
    }
}
