package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.io.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    @Test
    void writesJsonAndMarkdownWithAllSections(@TempDir Path dir) throws Exception {
        Report r = new Report("quantize", List.of("quantize", "--method", "rtn", "in", "out"));
        r.put("method", "rtn").put("parameters", Map.of("bits", 4));
        try (var t = r.stage("quantize")) {
            Thread.onSpinWait();
        }
        Map<String, Object> layer = new LinkedHashMap<>();
        layer.put("name", "model.layers.0.mlp.down_proj");
        layer.put("objective_after", 0.25);
        r.layer(layer);
        r.eval(Map.of("text", "valid.txt", "nll_before", 1.0, "nll_after", 1.5));
        try (PeakMemory mem = new PeakMemory()) {
            r.memory(mem);
        }
        r.write(dir);
        @SuppressWarnings("unchecked")
        Map<String, Object> json = (Map<String, Object>) Json.parse(Files.readString(dir.resolve("report.json")));
        assertEquals("quantize", json.get("command"));
        assertTrue(((Map<?, ?>) json.get("stages_seconds")).containsKey("quantize"));
        assertEquals(1, ((List<?>) json.get("layers")).size());
        String md = Files.readString(dir.resolve("report.md"));
        assertTrue(md.contains("| model.layers.0.mlp.down_proj | 0.2500 |"), md);
        assertTrue(md.contains("`shrink4j quantize --method rtn in out`"));
    }

    @Test
    void progressShowsStepAndEta() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
        p.stage("gptq", 4);
        p.step(1, "layer");
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(s.contains("[gptq] layer 1/4, ETA "), s);
    }

    @Test
    void peakMemoryIsPositiveOnLinux() {
        try (PeakMemory mem = new PeakMemory()) {
            if (Files.exists(Path.of("/proc/self/status"))) assertTrue(mem.peakAnonBytes() > 0);
        }
    }
}
