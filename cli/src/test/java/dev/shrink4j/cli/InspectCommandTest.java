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

class InspectCommandTest {
    @TempDir Path dir;

    @Test
    void summarizesTheDemoCheckpoint() {
        CliRunner r = CliRunner.run("inspect", TestData.demoModel().toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("architecture: LlamaForCausalLM"));
        assertTrue(r.out().contains("model.layers.0.mlp.down_proj.weight"));
        assertTrue(r.out().contains("total     47 tensors          260,032 elements        1,040,128 bytes"), r.out());
    }

    @Test
    void jsonOutputParses() {
        CliRunner r = CliRunner.run("inspect", "--json", TestData.demoModel().toString());
        assertEquals(0, r.status(), r.err());
        Map<?, ?> root = (Map<?, ?>) Json.parse(r.out());
        assertEquals("LlamaForCausalLM", root.get("architecture"));
        assertEquals(47, ((List<?>) root.get("tensors")).size());
        assertEquals(1_040_128L, ((Map<?, ?>) root.get("totals")).get("bytes"));
    }

    @Test
    void exitCodesAndOneLineMessages() throws IOException {
        CliRunner usage = CliRunner.run("inspect");
        assertEquals(2, usage.status());
        assertTrue(usage.err().contains("expected one PATH"), usage.err());
        assertEquals(2, CliRunner.run("inspect", "--bogus", "x").status());
        assertEquals(2, CliRunner.run("frobnicate").status());
        Path broken = Files.write(dir.resolve("broken.safetensors"), new byte[] {9, 0, 0, 0, 0, 0, 0, 0, '{'});
        CliRunner bad = CliRunner.run("inspect", broken.toString());
        assertEquals(1, bad.status());
        assertEquals(1, bad.err().lines().count(), "one line: " + bad.err());
        assertTrue(bad.err().contains("broken.safetensors"), bad.err());
        assertFalse(bad.err().contains("at dev.shrink4j"), "no stack trace");
        CliRunner help = CliRunner.run("inspect", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("--json"));
        assertEquals(0, CliRunner.run("--help").status());
    }
}
