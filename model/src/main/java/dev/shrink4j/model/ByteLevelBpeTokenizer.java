package dev.shrink4j.model;

import dev.shrink4j.tensors.ShrinkException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Byte-level BPE (GPT-2, Llama-3, Qwen2): the text is split by a regular expression into pre-tokens,
 * each pre-token's UTF-8 bytes are mapped to printable characters (GPT-2's byte↔unicode table), and
 * each is merged by rank on its own.
 */
final class ByteLevelBpeTokenizer implements Tokenizer {
    /** GPT-2's split pattern, used when the ByteLevel pre-tokenizer has {@code use_regex: true}. */
    static final String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final Map<Character, Integer> CHAR_TO_BYTE = new HashMap<>();

    static {
        // GPT-2 bytes_to_unicode: printable Latin-1 bytes map to themselves, the rest to 256, 257, ….
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = (char) (printable ? b : next++);
            CHAR_TO_BYTE.put(BYTE_TO_CHAR[b], b);
        }
    }

    private final BpeVocabulary vocab;
    private final int bos;
    private final Pattern split;
    private final boolean addPrefixSpace;
    private final boolean nfc;
    private final Path file;
    /** Pre-token → ids. Concurrent: one tokenizer serves every request thread of a server. */
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private ByteLevelBpeTokenizer(Path file, BpeVocabulary vocab, int bos, Pattern split, boolean addPrefixSpace, boolean nfc) {
        this.file = file;
        this.vocab = vocab;
        this.bos = bos;
        this.split = split;
        this.addPrefixSpace = addPrefixSpace;
        this.nfc = nfc;
    }

    static ByteLevelBpeTokenizer create(Map<String, Object> root, BpeVocabulary vocab, int bos, Path file) {
        String pattern = null;
        boolean prefix = false;
        List<Object> parts = new ArrayList<>();
        Map<String, Object> pre = JsonFields.object(root, "pre_tokenizer");
        if (pre != null && JsonFields.has(pre, "pretokenizers")) parts.addAll(JsonFields.list(pre, "pretokenizers"));
        else if (pre != null) parts.add(pre);
        for (Object p : parts) {
            switch (JsonFields.text(p, "type", "")) {
                case "Split" -> {
                    Map<String, Object> pat = JsonFields.object(p, "pattern");
                    pattern = JsonFields.has(pat, "Regex") ? JsonFields.text(pat, "Regex", "") : Pattern.quote(JsonFields.text(pat, "String", ""));
                }
                case "ByteLevel" -> {
                    prefix = JsonFields.bool(p, "add_prefix_space", false);
                    if (JsonFields.bool(p, "use_regex", true) && pattern == null) pattern = GPT2_PATTERN;
                }
                default -> throw new ShrinkException(file + ": unsupported pre-tokenizer " + JsonFields.text(p, "type", ""));
            }
        }
        Pattern compiled;
        try {
            compiled = Pattern.compile(pattern == null ? "(?s).+" : pattern);
        } catch (PatternSyntaxException e) {
            throw new ShrinkException(file + ": pre-tokenizer pattern not understood: " + e.getDescription());
        }
        boolean nfc = Tokenizer.containsType(root.get("normalizer"), "NFC");
        return new ByteLevelBpeTokenizer(file, vocab, bos, compiled, prefix, nfc);
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        String s = nfc ? Normalizer.normalize(text, Normalizer.Form.NFC) : text;
        if (addPrefixSpace && !s.startsWith(" ")) s = " " + s;
        List<int[]> parts = new ArrayList<>();
        int total = 0;
        Matcher m = split.matcher(new RegexBudget(s, file.toString()));
        int last = 0;
        while (m.find()) {
            if (m.start() > last) total += add(parts, s.substring(last, m.start()));
            if (m.end() > m.start()) total += add(parts, s.substring(m.start(), m.end()));
            last = m.end();
        }
        if (last < s.length()) total += add(parts, s.substring(last));
        boolean withBos = addBos && bos >= 0;
        int[] out = new int[total + (withBos ? 1 : 0)];
        int k = 0;
        if (withBos) out[k++] = bos;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, k, p.length);
            k += p.length;
        }
        return out;
    }

    private int add(List<int[]> parts, String word) {
        int[] ids = cache.get(word);
        if (ids == null) {
            byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
            int[] sym = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                sym[i] = vocab.id(String.valueOf(BYTE_TO_CHAR[bytes[i] & 0xFF]));
                if (sym[i] < 0) {
                    throw new ShrinkException("byte-level vocabulary lacks the byte token for 0x" + Integer.toHexString(bytes[i] & 0xFF));
                }
            }
            ids = vocab.merge(sym, sym.length);
            if (cache.size() < 100_000) cache.put(word, ids);
        }
        parts.add(ids);
        return ids.length;
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            String p = vocab.piece(id);
            if (p == null || vocab.isSpecial(id)) continue;
            for (int i = 0; i < p.length(); i++) {
                Integer b = CHAR_TO_BYTE.get(p.charAt(i));
                if (b != null) bytes.write(b);
                else bytes.writeBytes(String.valueOf(p.charAt(i)).getBytes(StandardCharsets.UTF_8));
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public int bosId() {
        return bos;
    }
}
