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
    void rendersCompressedLayersAsATable() {
        Path q = dir.resolve("rtn4");
        CliRunner quantize = CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--no-eval", "--quiet", TestData.demoModel().toString(), q.toString());
        assertEquals(0, quantize.status(), quantize.err());
        CliRunner r = CliRunner.run("inspect", q.toString());
        assertEquals(0, r.status(), r.err());
        String out = r.out();
        assertTrue(out.contains("architecture: LlamaForCausalLM (llama, marked model_type/quant_method shrink4j"), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("module +format +bits +group +shape +bytes +bits/w")), out);
        // 64 × 64 at 4 bits in one group of 64: 2048 B codes + 64 F16 scales + 64 packed 4-bit zeros (one byte per row).
        assertTrue(out.lines().anyMatch(l -> l.matches("model\\.layers\\.0\\.self_attn\\.q_proj +uniform +4 +64 +\\[64, 64] +2240 +4\\.375")), out);
        assertTrue(out.lines().anyMatch(l -> l.matches("model\\.layers\\.0\\.mlp\\.down_proj +uniform +4 +128 +\\[64, 172] +5824 +4\\.233")), out);
        assertTrue(out.contains("35 compressed linears, 226,560 weights in 122,920 bytes: 4.340 bits/weight (stored bytes)"), out);
        assertFalse(out.contains("{\"format_version\""), "no raw JSON block");
        assertFalse(out.contains(".qweight"), "a compressed linear's tensors are summed in its row");
        assertTrue(out.lines().allMatch(l -> l.length() < 200), "no 6 KB line");
        assertTrue(out.contains("total    117 tensors"), out);

        CliRunner json = CliRunner.run("inspect", "--json", q.toString());
        assertEquals(0, json.status(), json.err());
        Map<?, ?> root = (Map<?, ?>) Json.parse(json.out());
        assertEquals(35, ((Map<?, ?>) ((Map<?, ?>) root.get("shrink4j")).get("tensors")).size());
        assertEquals(117, ((List<?>) root.get("tensors")).size());
    }

    @Test
    void exitCodesAndOneLineMessages() throws IOException {
        CliRunner usage = CliRunner.run("inspect");
        assertEquals(2, usage.status());
        assertTrue(usage.err().contains("missing PATH"), usage.err());
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
