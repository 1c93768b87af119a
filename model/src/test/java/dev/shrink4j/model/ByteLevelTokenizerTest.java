package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shrink4j.tensors.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Byte-level BPE on a hand-made vocabulary: byte b has id b (its GPT-2 printable character), then
 * merges in rank order 0:"Ġ t"→256, 1:"l l"→257, 2:"e ll"→258, 3:"h ell"→259, 4:"hell o"→260,
 * 5:"h e"→261, 6:"Ġt he"→262; 263 is the special {@code <|endoftext|>}.
 *
 * <p>Hand derivation of "hello the world" (GPT-2 split: "hello", " the", " world"):
 * hello: ll (rank 1) → ell (2) → hell (3) → hello (4), although "h e" (5) was a candidate from the
 * start; " the": Ġt (0) → he (5) → Ġthe (6); " world": no merges, bytes Ġ w o r l d.
 */
class ByteLevelTokenizerTest {
    static final int[] HELLO_THE_WORLD = {260, 262, 32, 119, 111, 114, 108, 100};

    @TempDir Path dir;

    static String byteChar(int b) {
        boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (printable) return String.valueOf((char) b);
        int next = 256;
        for (int x = 0; x < b; x++) {
            boolean p = (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
            if (!p) next++;
        }
        return String.valueOf((char) next);
    }

    private Tokenizer fixture(boolean llama3Split) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> model = new LinkedHashMap<>();
        root.put("model", model);
        model.put("type", "BPE");
        Map<String, Object> vocab = new LinkedHashMap<>();
        model.put("vocab", vocab);
        for (int b = 0; b < 256; b++) vocab.put(byteChar(b), b);
        String[][] merges = {{"Ġ", "t"}, {"l", "l"}, {"e", "ll"}, {"h", "ell"}, {"hell", "o"}, {"h", "e"}, {"Ġt", "he"}};
        List<Object> m = new ArrayList<>();
        model.put("merges", m);
        for (int i = 0; i < merges.length; i++) {
            vocab.put(merges[i][0] + merges[i][1], 256 + i);
            m.add(merges[i][0] + " " + merges[i][1]);
        }
        root.put("added_tokens", List.of(Map.of("id", 263, "content", "<|endoftext|>", "special", true)));
        if (llama3Split) {
            Map<String, Object> pre = new LinkedHashMap<>();
            pre.put("type", "Sequence");
            pre.put("pretokenizers", List.of(
                    Map.of("type", "Split", "behavior", "Isolated", "pattern", Map.of("Regex",
                            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")),
                    Map.of("type", "ByteLevel", "add_prefix_space", false, "use_regex", false)));
            root.put("pre_tokenizer", pre);
        } else {
            root.put("pre_tokenizer", Map.of("type", "ByteLevel", "add_prefix_space", false, "use_regex", true));
        }
        root.put("decoder", Map.of("type", "ByteLevel"));
        Files.writeString(dir.resolve("tokenizer.json"), Json.write(root, 0));
        return Tokenizer.load(dir, null);
    }

    @Test
    void gpt2SplitEncodesTheHandDerivedIds() throws IOException {
        Tokenizer t = fixture(false);
        assertArrayEquals(HELLO_THE_WORLD, t.encode("hello the world", false));
        assertEquals("hello the world", t.decode(HELLO_THE_WORLD));
        assertEquals(264, t.vocabSize());
    }

    @Test
    void llama3SplitEncodesTheSameAndSplitsDigitsInThrees() throws IOException {
        Tokenizer t = fixture(true);
        assertArrayEquals(HELLO_THE_WORLD, t.encode("hello the world", false));
        // " 12345" → " ", "123", "45" under the Llama-3 pattern; ids are the bytes.
        assertArrayEquals(new int[] {32, 49, 50, 51, 52, 53}, t.encode(" 12345", false));
    }

    @Test
    void utf8BytesRoundTripAndSpecialTokensAreSkippedInDecoding() throws IOException {
        Tokenizer t = fixture(false);
        assertArrayEquals(new int[] {99, 97, 102, 0xC3, 0xA9}, t.encode("café", false));
        assertEquals("café\n", t.decode(new int[] {99, 97, 102, 0xC3, 0xA9, 263, 10}));
        String s = "Grüße, 世界! 🙂\n\tok";
        assertEquals(s, t.decode(t.encode(s, false)));
    }
}
