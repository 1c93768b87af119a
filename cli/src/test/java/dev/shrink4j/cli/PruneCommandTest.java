package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PruneCommandTest {
    private static final String TEXT = """
            Once upon a time, there was a little girl named Lily. She loved to play outside in the park. \
            One day, she saw a big, red ball. She wanted to play with it, but it was too high. \
            Lily asked her mom for help. Her mom smiled and said, "Let's get it together." \
            They jumped and jumped until the ball fell down. Lily was very happy and said thank you.
            """.repeat(4);

    @TempDir Path dir;

    private Path text() throws IOException {
        Path f = dir.resolve("calib.txt");
        Files.writeString(f, TEXT);
        return f;
    }

    private static void assertOneLine(CliRunner r, int status, String fragment) {
        assertEquals(status, r.status(), r.err());
        assertTrue(r.err().contains(fragment), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void badInputGivesOneClearMessageAndAnExitCode() throws IOException {
        String in = TestData.demoModel().toString();
        String out = dir.resolve("out").toString();
        // Values the command line (or this model) cannot take are usage errors (2); unreachable targets found
        // while working and missing files are failures (1).
        assertOneLine(CliRunner.run("prune", "--method", "magnitude", "--sparsity", "1.0", in, out), 2, "[0, 1)");
        assertOneLine(CliRunner.run("prune", "--method", "magnitude", "--sparsity", "-0.2", in, out), 2, "[0, 1)");
        assertOneLine(CliRunner.run("prune", "--method", "magnitude", "--pattern", "4:8", "--quiet", in, out), 2,
                "model.layers.0.mlp.down_proj.weight: pattern 4:8 needs the input size (172 columns) to be a multiple of 8");
        assertOneLine(CliRunner.run("prune", "--method", "magnitude", "--pattern", "3:4", in, out), 2, "expected unstructured, 2:4 or 4:8");
        assertOneLine(CliRunner.run("prune", "--method", "2ssp", "--sparsity", "0.999", "--calib", text().toString(), "--seq-len", "32",
                "--no-eval", "--quiet", in, out), 1, "2SSP cannot reach sparsity 0.9990");
        assertOneLine(CliRunner.run("prune", "--method", "wanda", "--sparsity", "0.5", "--calib", dir.resolve("none.txt").toString(), in, out),
                1, "--calib " + dir.resolve("none.txt") + ": no such file");
        assertOneLine(CliRunner.run("prune", "--method", "nope", "--sparsity", "0.5", in, out), 2, "--method");
        assertFalse(Files.exists(Path.of(out)), "no output after a failure");
    }

    @Test
    void sparsegptTwoFourWritesNmTensorsAndAReport() throws IOException {
        Path out = dir.resolve("sgpt");
        Path report = dir.resolve("report");
        CliRunner r = CliRunner.run("prune", "--method", "sparsegpt", "--pattern", "2:4", "--calib", text().toString(),
                "--samples", "2", "--seq-len", "32", "--report", report.toString(), "--eval", text().toString(),
                "--max-windows", "2", "--quiet", TestData.demoModel().toString(), out.toString());
        assertEquals(0, r.status(), r.err());
        Map<?, ?> config = (Map<?, ?>) Json.parse(Files.readString(out.resolve("config.json")));
        Map<?, ?> tensors = (Map<?, ?>) ((Map<?, ?>) config.get("shrink4j")).get("tensors");
        assertEquals(35, tensors.size());
        assertEquals("nm", ((Map<?, ?>) tensors.get("model.layers.4.mlp.down_proj")).get("format"));
        Map<?, ?> rep = (Map<?, ?>) Json.parse(Files.readString(report.resolve("report.json")));
        assertEquals(0.5, (Double) ((Map<?, ?>) rep.get("sparsity")).get("achieved_sparsity"), 1e-12);
        assertTrue(Files.readString(report.resolve("report.md")).contains("achieved_sparsity"));
        // the N:M checkpoint was read back through the runtime's compressed linears and evaluated
        Map<?, ?> eval = (Map<?, ?>) ((List<?>) rep.get("eval")).get(0);
        double before = (Double) eval.get("nll_before");
        double after = (Double) eval.get("nll_after");
        assertTrue(Double.isFinite(after) && after > before, eval.toString());
    }

    @Test
    void twoSspWritesASmallerDenseCheckpoint() throws IOException {
        Path out = dir.resolve("2ssp");
        CliRunner r = CliRunner.run("prune", "--method", "2ssp", "--sparsity", "0.5", "--calib", text().toString(),
                "--samples", "2", "--seq-len", "32", "--no-eval", TestData.demoModel().toString(), out.toString());
        assertEquals(0, r.status(), r.err());
        Map<?, ?> config = (Map<?, ?>) Json.parse(Files.readString(out.resolve("config.json")));
        assertEquals(66L, config.get("intermediate_size"));
        Map<?, ?> sh = (Map<?, ?>) config.get("shrink4j");
        assertEquals(1, ((List<?>) sh.get("attention_removed")).size());
        assertTrue(r.out().contains("66 of 172 FFN neurons kept") && r.out().contains("sparsity 0."), r.out());
        CliRunner back = CliRunner.run("inspect", out.toString());
        assertEquals(0, back.status(), back.err());
        assertTrue(back.out().contains("model.layers.0.mlp.gate_proj.weight"), back.out());
    }

    @Test
    void sparsitySweepWritesReportAndPlot() throws IOException {
        Path out = dir.resolve("sweep");
        CliRunner r = CliRunner.run("sparsity", "--model", TestData.demoModel().toString(), "--text", text().toString(),
                "--levels", "0,20,40", "--variants", "global,2:4", "--seq-len", "32", "--max-windows", "2", "--refine", "0",
                "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.size(out.resolve("sparsity.png")) > 1000);
        Map<?, ?> rep = (Map<?, ?>) Json.parse(Files.readString(out.resolve("report.json")));
        assertEquals(3, ((List<?>) rep.get("points")).size()); // 20 %, 40 %, 2:4
        assertTrue(r.out().contains("global: ES_τ="), r.out());
    }
}
