package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints a stranger could publish: each is refused by {@code eval} (which loads config, weights
 * and tokenizer) with one line naming the file and exit 1, quickly and without a large allocation —
 * and the Hugging Face cache's symlinked layout stays readable.
 */
class HostileCheckpointsTest {
    @TempDir
    Path dir;

    private Path demoCopy(String name) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        try (Stream<Path> files = Files.list(TestData.demoModel())) {
            for (Path f : files.toList()) Files.copy(f, d.resolve(f.getFileName()));
        }
        return d;
    }

    private static void refused(Path model, String expected) throws IOException {
        refused(model, expected, "Once upon a time there was a little dog that ran.\nIt was happy.");
    }

    private static void refused(Path model, String expected, String evalText) throws IOException {
        Path text = model.resolveSibling(model.getFileName() + ".txt");
        Files.writeString(text, evalText);
        long t0 = System.nanoTime();
        CliRunner r = CliRunner.run("eval", "--quiet", "--model", model.toString(), "--text", text.toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(1, r.status(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(expected), "expected \"" + expected + "\" in: " + r.err());
        assertTrue(seconds < 20, "took " + seconds + " s");
    }

    /** Splits the demo into a two-shard checkpoint with an index whose weight_map is {@code weightMap}. */
    private Path sharded(String name, String weightMap) throws IOException {
        Path d = demoCopy(name);
        Files.writeString(d.resolve("model.safetensors.index.json"), "{\"metadata\": {}, \"weight_map\": " + weightMap + "}");
        return d;
    }

    @Test
    void shardNamesThatLeaveTheDirectory() throws IOException {
        refused(sharded("dotdot", "{\"model.embed_tokens.weight\": \"../model.safetensors\"}"), "invalid shard name");
        refused(sharded("absolute", "{\"model.embed_tokens.weight\": \"/etc/passwd\"}"), "invalid shard name");
    }

    @Test
    void aTensorListedTwiceOrAShardUnderTwoNames() throws IOException {
        refused(sharded("twice", "{\"model.norm.weight\": \"model.safetensors\", \"model.norm.weight\": \"model.safetensors\"}"), "duplicate");
        Path alias = demoCopy("alias");
        Files.createSymbolicLink(alias.resolve("again.safetensors"), alias.resolve("model.safetensors"));
        Files.writeString(alias.resolve("model.safetensors.index.json"),
                "{\"weight_map\": {\"model.norm.weight\": \"again.safetensors\", \"model.embed_tokens.weight\": \"model.safetensors\"}}");
        refused(alias, "is not listed for this shard");
    }

    /** The Hugging Face cache links snapshots/REV/* into blobs/: symlinked files are read like any other. */
    @Test
    void symlinkedFilesStayAllowed() throws IOException {
        Path blobs = demoCopy("blobs");
        Path snapshot = Files.createDirectories(dir.resolve("snapshots/abc123"));
        try (Stream<Path> files = Files.list(blobs)) {
            for (Path f : files.toList()) Files.createSymbolicLink(snapshot.resolve(f.getFileName()), f);
        }
        CliRunner r = CliRunner.run("inspect", snapshot.toString());
        assertEquals(0, r.status(), r.err());
    }

    @Test
    void headerLiesAboutShapesAndSizes() throws IOException {
        // A shape whose element count overflows a long.
        refused(withHeader("overflow", "{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,0]}}", 0),
                "overflows");
        // A header length claiming ~40 GB, what 10⁹ tensor entries would take.
        Path d = demoCopy("billion");
        byte[] b = Files.readAllBytes(d.resolve("model.safetensors"));
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 40_000_000_000L);
        Files.write(d.resolve("model.safetensors"), b);
        refused(d, "extends beyond the file");
    }

    private Path withHeader(String name, String header, int dataBytes) throws IOException {
        Path d = demoCopy(name);
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h);
        Files.write(d.resolve("model.safetensors"), out.array());
        return d;
    }

    @Test
    void configsClaimingBillionsOfLayersOrTokens() throws IOException {
        for (String key : new String[] {"num_hidden_layers", "vocab_size"}) {
            Path d = demoCopy("huge-" + key);
            String config = Files.readString(d.resolve("config.json")).replaceFirst("\"" + key + "\"\\s*:\\s*\\d+", "\"" + key + "\": 1000000000");
            Files.writeString(d.resolve("config.json"), config);
            refused(d, key + " 1000000000 is outside");
        }
    }

    @Test
    void aTokenizerWhoseSplitPatternTakesQuadraticTime() throws IOException {
        Path d = demoCopy("regex");
        String tok = Files.readString(d.resolve("tokenizer.json"));
        // A byte-level split pattern .*QQQ on a 100,000-character line without QQQ: every start position scans
        // to the end, 5·10⁹ steps (minutes) without the budget. (JDK 9+ memoizes the classic exponential
        // (a+)+$ shapes; the budget stops those that remain, and super-linear ones like this.)
        String hostile = tok.replaceFirst("\"pre_tokenizer\"\\s*:\\s*(null|\\{[^}]*\\})", java.util.regex.Matcher.quoteReplacement(
                "\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": {\"Regex\": \".*QQQ\"}, \"behavior\": \"Isolated\"}, {\"type\": \"ByteLevel\", \"use_regex\": false}]}"));
        assertTrue(!hostile.equals(tok), "the demo tokenizer.json changed shape: " + tok.substring(0, 200));
        Files.writeString(d.resolve("tokenizer.json"), hostile);
        refused(d, "backtracks too much", "Once upon a time ".repeat(6000));
    }
}
