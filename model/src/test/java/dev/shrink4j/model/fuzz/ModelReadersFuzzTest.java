package dev.shrink4j.model.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.fuzz.FuzzFiles;
import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fuzz targets for {@code config.json} and {@code tokenizer.json}, and for both tokenizers' encode and
 * decode of arbitrary text. The documented refusal is {@link ShrinkException}; anything else is a finding.
 */
class ModelReadersFuzzTest {
    private static Tokenizer sentencePiece;
    private static Tokenizer byteLevel;

    /** A whole {@code config.json}; an accepted config must answer its per-layer questions. */
    @FuzzTest
    void config(byte[] bytes) {
        Path p = FuzzFiles.write("config.json", bytes);
        try {
            ModelConfig c = ModelConfig.load(p);
            for (int l = 0; l < c.numLayers(); l++) {
                c.intermediateSize(l);
                c.hasAttention(l);
            }
            c.qDim();
            c.kvDim();
            c.defaultSeqLen();
        } catch (ShrinkException expected) {
            // the documented refusal
        }
    }

    /** A whole {@code tokenizer.json} (either family); an accepted one encodes and decodes a fixed text. */
    @FuzzTest
    void tokenizer(byte[] bytes) {
        Path dir = FuzzFiles.dir().resolve("tok");
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve("tokenizer.json"), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Tokenizer t = Tokenizer.load(dir, null);
            int[] ids = t.encode("Once upon a time, 12345 héllo wörld 🙂\n\t  end", true);
            t.decode(ids);
            int[] all = new int[Math.min(t.vocabSize(), 1000) + 2];
            for (int i = 0; i < all.length; i++) all[i] = i - 1;
            t.decode(all);
        } catch (ShrinkException expected) {
            // the documented refusal
        }
    }

    /**
     * Arbitrary text through the demo's SentencePiece tokenizer and a byte-level one: ids stay in the
     * vocabulary, and byte-level BPE (no normalizer) gives the text back exactly.
     */
    @FuzzTest
    void encodeDecode(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        for (Tokenizer t : List.of(sentencePiece(), byteLevel())) {
            int[] ids = t.encode(text, true);
            for (int id : ids) {
                if (id < 0 || id >= t.vocabSize()) throw new AssertionError("id " + id + " outside the vocabulary of " + t.vocabSize());
            }
            String back = t.decode(ids);
            if (t == byteLevel && !back.equals(text)) throw new AssertionError("byte-level round trip changed " + Json.write(text, 0) + " into " + Json.write(back, 0));
        }
    }

    private static synchronized Tokenizer sentencePiece() {
        if (sentencePiece == null) sentencePiece = Tokenizer.load(TestData.demoModel(), ModelConfig.load(TestData.demoModel()));
        return sentencePiece;
    }

    /** GPT-2-style byte-level BPE: 256 byte tokens, a few merges, the GPT-2 split. */
    static synchronized Tokenizer byteLevel() {
        if (byteLevel != null) return byteLevel;
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> model = new LinkedHashMap<>();
        root.put("model", model);
        model.put("type", "BPE");
        Map<String, Object> vocab = new LinkedHashMap<>();
        model.put("vocab", vocab);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            vocab.put(String.valueOf((char) (printable ? b : next++)), (long) b);
        }
        String[][] merges = {{"Ġ", "t"}, {"l", "l"}, {"e", "ll"}, {"h", "ell"}, {"hell", "o"}, {"h", "e"}, {"Ġt", "he"}};
        List<Object> m = new ArrayList<>();
        model.put("merges", m);
        for (int i = 0; i < merges.length; i++) {
            vocab.put(merges[i][0] + merges[i][1], (long) (256 + i));
            m.add(merges[i][0] + " " + merges[i][1]);
        }
        root.put("added_tokens", List.of(Map.of("id", 263L, "content", "<|endoftext|>", "special", true)));
        root.put("pre_tokenizer", Map.of("type", "ByteLevel", "add_prefix_space", false, "use_regex", true));
        root.put("decoder", Map.of("type", "ByteLevel"));
        Path dir = FuzzFiles.dir().resolve("bytelevel");
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("tokenizer.json"), Json.write(root, 0));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byteLevel = Tokenizer.load(dir, null);
        return byteLevel;
    }
}
