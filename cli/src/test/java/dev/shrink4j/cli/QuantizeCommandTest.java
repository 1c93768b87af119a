package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantizeCommandTest {
    private static final String STORY = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big red ball. She ran to get it, but a dog got it first. Lily was sad. "
            + "Her mom said, \"Let's share with the dog.\" They played together and had fun all day.\n\n";
    /** Small and quick: 4 sequences of 64 tokens. */
    private static final String[] QUICK = {"--samples", "4", "--seq-len", "64", "--quiet"};

    @TempDir Path dir;

    private Path text(String name, int repeats) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, STORY.repeat(repeats));
        return p;
    }

    private static String[] args(String[] head, String... tail) {
        return Stream.concat(Stream.of(head), Stream.concat(Stream.of(QUICK), Stream.of(tail))).toArray(String[]::new);
    }

    @Test
    void writesAShrink4jCheckpointThatLoadsBackToTheSameModelAndAReport() throws IOException {
        Path calib = text("calib.txt", 20), eval = text("eval.txt", 5);
        Path out = dir.resolve("out"), rep = dir.resolve("rep");
        CliRunner r = CliRunner.run(args(new String[] {"quantize", "--method", "gptq", "--bits", "4", "--group-size", "32"},
                "--calib", calib.toString(), "--eval", eval.toString(), "--eval-seq-len", "64", "--report", rep.toString(),
                TestData.demoModel().toString(), out.toString()));
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("gptq 4-bit: 35 linears"), r.out());
        assertTrue(r.out().contains("eval.txt: ppl "), r.out());
        Map<?, ?> report = (Map<?, ?>) Json.parse(Files.readString(rep.resolve("report.json")));
        assertEquals(35, ((List<?>) report.get("layers")).size());
        Map<?, ?> ev = (Map<?, ?>) ((List<?>) report.get("eval")).get(0);
        double klReported = ((Number) ev.get("kl")).doubleValue();
        assertTrue(klReported > 0);
        assertTrue(Files.readString(rep.resolve("report.md")).contains("## Layers"));
        // The written checkpoint is the model that was evaluated: same KL against the original.
        try (Arena arena = Arena.ofShared()) {
            LlamaModel original = LlamaModel.load(TestData.demoModel(), arena);
            LlamaModel loaded = LlamaModel.load(out, arena);
            int[] stream = Tokenizer.load(out, loaded.config()).encode(Files.readString(eval), false);
            Perplexity.Result p = Perplexity.evaluate(loaded, stream, 64, 0, original);
            assertEquals(klReported, p.kl(), 1e-6 * (1 + klReported));
        }
    }

    @Test
    void lutGroupCheckpointLoadsBackAndPaysForItsCodebooks() throws IOException {
        Path calib = text("calib.txt", 20);
        double[] bits = new double[2];
        for (int k = 0; k < 2; k++) {
            Path out = dir.resolve("lnq" + k), rep = dir.resolve("rep" + k);
            String[] head = k == 0 ? new String[] {"quantize", "--method", "lnq", "--bits", "3"}
                    : new String[] {"quantize", "--method", "lnq", "--bits", "3", "--lut-group", "32"};
            CliRunner r = CliRunner.run(args(head, "--no-eval", "--calib", calib.toString(), "--report", rep.toString(),
                    TestData.demoModel().toString(), out.toString()));
            assertEquals(0, r.status(), r.err());
            Map<?, ?> report = (Map<?, ?>) Json.parse(Files.readString(rep.resolve("report.json")));
            bits[k] = ((Number) ((Map<?, ?>) report.get("bits")).get("total_bits_per_weight")).doubleValue();
            try (Arena arena = Arena.ofShared()) {
                LlamaModel loaded = LlamaModel.load(out, arena);
                int[] stream = Tokenizer.load(out, loaded.config()).encode(STORY, false);
                assertTrue(Double.isFinite(Perplexity.evaluate(loaded, stream, 64, 0, null).ppl()));
            }
            String header = Files.readString(out.resolve("model.safetensors"), java.nio.charset.StandardCharsets.ISO_8859_1);
            // q_proj is (64, 64): one codebook per row, or two per row with 32-column groups.
            String lutShape = k == 0 ? "[64,1,8]" : "[64,2,8]";
            assertTrue(header.contains("\"model.layers.0.self_attn.q_proj.lut\":{\"dtype\":\"F16\",\"shape\":" + lutShape),
                    header.substring(0, 400));
        }
        assertTrue(bits[1] > bits[0], bits[1] + " vs " + bits[0]); // more codebooks, more bits
        CliRunner u = CliRunner.run(args(new String[] {"quantize", "--method", "gptq", "--lut-group", "32"}, "--no-eval",
                "--calib", calib.toString(), TestData.demoModel().toString(), dir.resolve("never").toString()));
        assertEquals(2, u.status(), u.err()); // a usage error: --lut-group is for the LUT methods
        assertTrue(u.err().contains("--lut-group applies to the LUT methods"), u.err());
    }

    @Test
    void denseAndJlamaOutputs() throws IOException {
        Path calib = text("calib.txt", 20);
        Path dense = dir.resolve("dense"), jlama = dir.resolve("jlama");
        CliRunner d = CliRunner.run(args(new String[] {"quantize", "--method", "rtn", "--bits", "3", "--no-eval", "--format", "dense"},
                "--calib", calib.toString(), TestData.demoModel().toString(), dense.toString()));
        assertEquals(0, d.status(), d.err());
        try (Arena arena = Arena.ofShared()) {
            LlamaModel m = LlamaModel.load(dense, arena); // plain HF checkpoint, no shrink4j block
            assertEquals(5, m.numLayers());
            assertFalse(Files.readString(dense.resolve("config.json")).contains("\"shrink4j\""));
        }
        CliRunner j = CliRunner.run(args(new String[] {"quantize", "--method", "gptq", "--bits", "4", "--no-eval", "--format", "jlama-q4"},
                "--calib", calib.toString(), TestData.demoModel().toString(), jlama.toString()));
        assertEquals(0, j.status(), j.err());
        String header = Files.readString(jlama.resolve("model.safetensors"), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("\"model.layers.0.self_attn.q_proj.weight\":{\"dtype\":\"Q4\""), header.substring(0, 300));
        assertTrue(header.contains("model.layers.0.self_attn.q_proj.weight.qb"));
        // down_proj has d_in = 172, not a multiple of 32: kept as F32 and listed.
        assertTrue(header.contains("\"model.layers.0.mlp.down_proj.weight\":{\"dtype\":\"F32\""));
        assertTrue(j.err().isEmpty() || !j.err().contains("error"), j.err());
    }

    @Test
    void statsCacheReusesHessiansAcrossBitsWithTheSameOutput() throws IOException {
        Path calib = text("calib.txt", 20), cache = dir.resolve("cache");
        String[] head3 = {"quantize", "--method", "lnq", "--bits", "3", "--no-eval"};
        CliRunner cold = CliRunner.run(args(head3, "--calib", calib.toString(), "--stats-cache", cache.toString(),
                TestData.demoModel().toString(), dir.resolve("o3").toString()));
        assertEquals(0, cold.status(), cold.err());
        // Not quiet: the stage lines show where the Hessians came from.
        CliRunner warm = CliRunner.run("quantize", "--method", "lnq", "--bits", "4", "--no-eval", "--samples", "4", "--seq-len", "64",
                "--calib", calib.toString(), "--stats-cache", cache.toString(), TestData.demoModel().toString(), dir.resolve("o4").toString());
        assertEquals(0, warm.status(), warm.err());
        assertTrue(warm.err().contains("[Hessians from cache "), warm.err());
        assertFalse(warm.err().contains("[gradients"), warm.err());
        CliRunner fresh = CliRunner.run(args(new String[] {"quantize", "--method", "lnq", "--bits", "4", "--no-eval"},
                "--calib", calib.toString(), TestData.demoModel().toString(), dir.resolve("u4").toString()));
        assertEquals(0, fresh.status(), fresh.err());
        assertEquals(-1, Files.mismatch(dir.resolve("u4/model.safetensors"), dir.resolve("o4/model.safetensors")));
    }

    @Test
    void badInputGivesOneLineAndLeavesEverythingUntouched() throws IOException {
        Path model = TestData.demoModel();
        byte[] before = Files.readAllBytes(model.resolve("model.safetensors"));
        Path calib = text("calib.txt", 20);
        Path exists = Files.createDirectories(dir.resolve("exists"));
        Files.writeString(exists.resolve("keep.txt"), "mine");
        // Usage errors (the command line must change) exit 2; bad data (a text too short) exits 1.
        String[][] cases = {
                {"2", "--method", "awq"},
                {"2", "--bits", "5"},
                {"1", "--calib", text("short.txt", 0).toString()},
                {"2", "--format", "jlama-q4", "--method", "lnq"},
                {"2", "--method", "lnq", "--lut-group", "8"},
        };
        for (String[] row : cases) {
            int status = Integer.parseInt(row[0]);
            String[] c = java.util.Arrays.copyOfRange(row, 1, row.length);
            String[] a = Stream.concat(Stream.of("quantize"), Stream.concat(Stream.of(c), Stream.of("--quiet", "--calib", calib.toString(),
                    model.toString(), dir.resolve("never").toString()))).toArray(String[]::new);
            if (c[0].equals("--calib")) a = Stream.concat(Stream.of("quantize", "--quiet", "--no-eval"), Stream.concat(Stream.of(c),
                    Stream.of(model.toString(), dir.resolve("never").toString()))).toArray(String[]::new);
            CliRunner r = CliRunner.run(a);
            assertEquals(status, r.status(), String.join(" ", c) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(Files.exists(dir.resolve("never")));
        }
        CliRunner r = CliRunner.run("quantize", "--quiet", "--calib", calib.toString(), model.toString(), exists.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("already exists"), r.err());
        assertEquals("mine", Files.readString(exists.resolve("keep.txt")));
        assertArrayEquals(before, Files.readAllBytes(model.resolve("model.safetensors")));
    }

    @Test
    void nonFiniteWeightsAreRefused() throws IOException {
        // A copy of the demo with one NaN in a linear.
        Path bad = Files.createDirectories(dir.resolve("nan"));
        try (Stream<Path> files = Files.list(TestData.demoModel())) {
            for (Path p : files.toList()) Files.copy(p, bad.resolve(p.getFileName()));
        }
        try (Arena arena = Arena.ofConfined()) {
            var ckpt = dev.shrink4j.tensors.io.Checkpoint.open(bad, arena);
            var info = ckpt.info("model.layers.2.mlp.up_proj.weight");
            long pos = 8 + headerLength(bad.resolve("model.safetensors")) + info.begin();
            try (var ch = java.nio.channels.FileChannel.open(bad.resolve("model.safetensors"), java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(0, Float.NaN), pos);
            }
        }
        CliRunner r = CliRunner.run(args(new String[] {"quantize", "--method", "rtn", "--no-eval"},
                "--calib", text("calib.txt", 20).toString(), bad.toString(), dir.resolve("o").toString()));
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("model.layers.2.mlp.up_proj.weight") && r.err().contains("non-finite"), r.err());
        assertFalse(Files.exists(dir.resolve("o")));
    }

    private static long headerLength(Path file) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(b, 0);
            return b.getLong(0);
        }
    }
}
