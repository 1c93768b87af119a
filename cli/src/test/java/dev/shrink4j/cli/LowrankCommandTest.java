package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LowrankCommandTest {
    @TempDir Path dir;

    private String demo() {
        return TestData.demoModel().toString();
    }

    @Test
    void streamsWeightOnlyMethodsWithoutEvaluation() throws Exception {
        Path out = dir.resolve("svd");
        CliRunner r = CliRunner.run("lowrank", "--method", "svd", "--params-ratio", "0.5", "--format", "dense", "--no-eval", "--quiet",
                demo(), out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("35 linears in 5 blocks"), r.out());
        assertEquals("", r.err());
        Map<?, ?> cfg = (Map<?, ?>) Json.parse(Files.readString(out.resolve("config.json")));
        Map<?, ?> prov = (Map<?, ?>) ((Map<?, ?>) cfg.get("shrink4j")).get("provenance");
        assertEquals("svd", prov.get("method"));
    }

    @Test
    void calibratesEvaluatesAndReports() throws Exception {
        Path text = Files.writeString(dir.resolve("text.txt"),
                "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ".repeat(40));
        Path out = dir.resolve("white");
        Path report = dir.resolve("report");
        CliRunner r = CliRunner.run("lowrank", "--method", "lost-whitened", "--params-ratio", "0.75", "--calib", text.toString(),
                "--samples", "4", "--seq-len", "64", "--eval", text.toString(), "--eval-seq-len", "64", "--max-windows", "4",
                "--report", report.toString(), "--quiet", demo(), out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("ΔNLL"), r.out());
        Map<?, ?> json = (Map<?, ?>) Json.parse(Files.readString(report.resolve("report.json")));
        assertEquals("lost-whitened", json.get("method"));
        assertEquals(35, ((List<?>) json.get("layers")).size());
        Map<?, ?> layer = (Map<?, ?>) ((List<?>) json.get("layers")).get(0);
        assertTrue(((Number) layer.get("output_error")).doubleValue() < 1, layer.toString());
        assertEquals(1, ((List<?>) json.get("eval")).size());
        assertTrue(((Number) ((Map<?, ?>) json.get("totals")).get("achieved_ratio")).doubleValue() <= 0.75);
        assertTrue(Files.readString(report.resolve("report.md")).contains("model.layers.4.mlp.down_proj"));
    }

    @Test
    void badInputGivesOneLineAndAnExitCode() {
        String out = dir.resolve("o").toString();
        CliRunner outside = CliRunner.run("lowrank", "--method", "lost", "--params-ratio", "1.5", demo(), out);
        assertEquals(2, outside.status());
        assertTrue(outside.err().contains("--params-ratio must be in (0, 1]"), outside.err());
        CliRunner tiny = CliRunner.run("lowrank", "--method", "lost", "--params-ratio", "0.02", "--quiet", demo(), out);
        assertEquals(1, tiny.status());
        assertEquals(1, tiny.err().lines().count(), tiny.err());
        assertTrue(tiny.err().contains("model.layers.0.") && tiny.err().contains("cannot hold rank 1"), tiny.err());
        assertFalse(Files.exists(Path.of(out)), "nothing written");
        assertEquals(2, CliRunner.run("lowrank", "--method", "tucker", "--params-ratio", "0.5", demo(), out).status());
        assertEquals(2, CliRunner.run("lowrank", "--params-ratio", "0.5", demo(), out).status());
        assertEquals(2, CliRunner.run("lowrank", "--method", "svd", "--params-ratio", "half", demo(), out).status());
        assertEquals(2, CliRunner.run("lowrank", "--method", "svd", "--params-ratio", "0.5", demo()).status());
        assertEquals(2, CliRunner.run("lowrank", "--method", "lost", "--params-ratio", "0.5", "--rho", "1", demo(), out).status());
        assertEquals(2, CliRunner.run("lowrank", "--method", "svd", "--params-ratio", "0.5", demo(), demo()).status()); // OUT = IN: a usage error
        CliRunner help = CliRunner.run("lowrank", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("--params-ratio"));
    }
}
