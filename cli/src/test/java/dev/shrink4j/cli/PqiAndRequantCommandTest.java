package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Proj;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code shrink4j pqi} and {@code quantize --method requant} end to end on the demo model, and their bad input. */
class PqiAndRequantCommandTest {
    private static final String STORY = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big red ball. She ran to get it, but a dog got it first. Lily was sad. "
            + "Her mom said, \"Let's share with the dog.\" They played together and had fun all day.\n\n";
    private static final String[] QUICK = {"--samples", "2", "--seq-len", "32", "--quiet"};

    @TempDir Path dir;

    private Path calib() throws IOException {
        Path p = dir.resolve("calib.txt");
        if (!Files.exists(p)) Files.writeString(p, STORY.repeat(20));
        return p;
    }

    private CliRunner quantize(String out, String... extra) throws IOException {
        String[] a = Stream.of(new String[] {"quantize"}, extra, QUICK,
                new String[] {"--calib", calib().toString(), "--no-eval", TestData.demoModel().toString(), dir.resolve(out).toString()})
                .flatMap(Stream::of).toArray(String[]::new);
        return CliRunner.run(a);
    }

    @Test
    void requantWritesDenseAndSparseThatRunsAndPqiMeasuresIt() throws IOException {
        CliRunner q = quantize("rq", "--method", "requant", "--base", "rtn", "--bits", "3", "--outlier-ratio", "1%", "--significant-ratio", "0.2%",
                "--pqi-points", "1");
        assertEquals(0, q.status(), q.err());
        assertTrue(q.out().contains("requant over rtn 3-bit"), q.out());
        Path rq = dir.resolve("rq");
        Map<?, ?> config = (Map<?, ?>) Json.parse(Files.readString(rq.resolve("config.json")));
        Map<?, ?> tensors = (Map<?, ?>) ((Map<?, ?>) config.get("shrink4j")).get("tensors");
        assertTrue(tensors.values().stream().anyMatch(t -> "dense_and_sparse".equals(((Map<?, ?>) t).get("format"))), tensors.toString());
        try (Arena arena = Arena.ofShared()) {
            LlamaModel m = LlamaModel.load(rq, arena);
            int[] stream = Tokenizer.load(TestData.demoModel(), m.config()).encode(STORY, false);
            assertTrue(Double.isFinite(Perplexity.evaluate(m, stream, 32, 2, null).ppl()));
        }
        Path rep = dir.resolve("rep");
        CliRunner p = CliRunner.run("pqi", "--model", TestData.demoModel().toString(), "--quantized", rq.toString(), "--points", "1,2",
                "--calib", calib().toString(), "--samples", "2", "--seq-len", "32", "--quiet", "--report", rep.toString());
        assertEquals(0, p.status(), p.err());
        assertTrue(p.out().contains("| 2 | left |"), p.out());
        assertTrue(p.out().contains("share of Σ PQI"), p.out());
        assertTrue(Files.size(rep.resolve("pqi-heatmap.png")) > 0);
        Map<?, ?> report = (Map<?, ?>) Json.parse(Files.readString(rep.resolve("report.json")));
        assertTrue(report.get("delta_f") instanceof Number);
        assertEquals(35, ((java.util.List<?>) report.get("layers")).size(), "one row per linear");
    }

    @Test
    void badRequantAndPqiInputIsOneLineWithAnExitCodeAndWritesNothing() throws IOException {
        byte[] before = Files.readAllBytes(TestData.demoModel().resolve("model.safetensors"));
        String[][] usage = {
                {"--method", "requant", "--outlier-ratio", "0.5"},
                {"--method", "requant", "--significant-ratio", "-1%"},
                {"--method", "requant", "--base", "awq"},
                {"--method", "requant", "--format", "jlama-q4"},
                {"--method", "gptq", "--outlier-ratio", "0.01"},
                {"--method", "requant", "--pqi-points", "0"},
        };
        for (String[] c : usage) {
            CliRunner r = quantize("never", c);
            assertEquals(2, r.status(), String.join(" ", c) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(Files.exists(dir.resolve("never")));
        }
        // --quantized whose shapes do not match: the original's v_proj is (32, 64); here it is (31, 64)
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        try (Stream<Path> files = Files.list(TestData.demoModel())) {
            for (Path f : files.toList()) if (!f.getFileName().toString().endsWith(".safetensors")) Files.copy(f, other.resolve(f.getFileName()));
        }
        try (Arena arena = Arena.ofShared()) {
            var ck = dev.shrink4j.tensors.io.Checkpoint.open(TestData.demoModel(), arena);
            Map<String, dev.shrink4j.tensors.Tensor> t = new java.util.LinkedHashMap<>();
            for (String n : ck.names()) t.put(n, ck.tensor(n));
            String v = Proj.V.weightName(0);
            dev.shrink4j.tensors.Tensor full = t.get(v);
            t.put(v, full.rows(0, full.shape().dim(0) - 1));
            dev.shrink4j.tensors.io.SafetensorsWriter.write(other.resolve("model.safetensors"), t, Map.of(), true);
        }
        CliRunner r = CliRunner.run("pqi", "--model", TestData.demoModel().toString(), "--quantized", other.toString(), "--quiet",
                "--calib", calib().toString(), "--samples", "2", "--seq-len", "32");
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains(Proj.V.weightName(0)), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        CliRunner bad = CliRunner.run("pqi", "--model", TestData.demoModel().toString(), "--quantized", other.toString(), "--points", "0,4");
        assertEquals(2, bad.status(), bad.err());
        assertArrayEquals(before, Files.readAllBytes(TestData.demoModel().resolve("model.safetensors")));
    }
}
