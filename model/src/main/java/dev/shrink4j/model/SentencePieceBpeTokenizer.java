package dev.shrink4j.model;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * SentencePiece-style BPE as Llama-2 tokenizers export it to {@code tokenizer.json}: spaces become
 * {@code ▁}, a dummy prefix {@code ▁} is prepended, the whole text is one word whose characters are
 * merged by rank, and characters outside the vocabulary fall back to {@code <0xXX>} byte tokens.
 */
final class SentencePieceBpeTokenizer implements Tokenizer {
    private static final String SPACE = "\u2581";

    private final BpeVocabulary vocab;
    private final int bos;
    private final boolean prependSpace;
    private final boolean byteFallback;
    private final int unk;
    private final int[] byteIds = new int[256]; // byte → id of its <0xXX> token, or -1

    private SentencePieceBpeTokenizer(BpeVocabulary vocab, int bos, boolean prependSpace, boolean byteFallback, int unk) {
        this.vocab = vocab;
        this.bos = bos;
        this.prependSpace = prependSpace;
        this.byteFallback = byteFallback;
        this.unk = unk;
        for (int b = 0; b < 256; b++) byteIds[b] = vocab.id(String.format("<0x%02X>", b));
    }

    static SentencePieceBpeTokenizer create(Map<String, Object> root, BpeVocabulary vocab, int bos) {
        Map<String, Object> model = JsonFields.object(root, "model");
        // Llama-2 "legacy" exports prepend ▁ in the normalizer; newer ones use a Metaspace pre-tokenizer.
        boolean prepend = Tokenizer.containsType(root.get("normalizer"), "Prepend");
        Map<String, Object> pre = JsonFields.object(root, "pre_tokenizer");
        if (Tokenizer.containsType(pre, "Metaspace")) {
            String scheme = JsonFields.text(pre, "prepend_scheme", JsonFields.bool(pre, "add_prefix_space", true) ? "always" : "never");
            prepend = !scheme.equals("never");
        }
        String unkToken = JsonFields.text(model, "unk_token", "<unk>");
        return new SentencePieceBpeTokenizer(vocab, bos, prepend, JsonFields.bool(model, "byte_fallback", false), vocab.id(unkToken));
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        String s = text.replace(" ", SPACE);
        if (prependSpace && !s.isEmpty()) {
            s = SPACE + s;
        }
        int[] sym = new int[s.length() * 4 + 1];
        int n = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int len = Character.charCount(cp);
            int id = vocab.id(s.substring(i, i + len));
            if (id >= 0) {
                sym[n++] = id;
            } else if (byteFallback) {
                for (byte b : s.substring(i, i + len).getBytes(StandardCharsets.UTF_8)) {
                    int bid = byteIds[b & 0xFF];
                    sym[n++] = bid >= 0 ? bid : unk;
                }
            } else {
                sym[n++] = unk;
            }
            i += len;
        }
        int[] merged = vocab.merge(sym, n);
        if (!addBos || bos < 0) {
            return merged;
        }
        int[] out = new int[merged.length + 1];
        out[0] = bos;
        System.arraycopy(merged, 0, out, 1, merged.length);
        return out;
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean first = true;
        for (int id : ids) {
            if (vocab.isSpecial(id) || vocab.piece(id) == null) continue;
            String p = vocab.piece(id);
            if (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">")) {
                bytes.write(Integer.parseInt(p.substring(3, 5), 16));
            } else {
                String t = p.replace(SPACE, " ");
                // The decoder strips the one space the dummy prefix introduced.
                if (first && prependSpace && t.startsWith(" ")) t = t.substring(1);
                bytes.writeBytes(t.getBytes(StandardCharsets.UTF_8));
            }
            first = false;
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
