package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code quantize --format compressed-tensors}: checked against the format's description (no vLLM here). */
class CompressedTensorsCommandTest {
    @TempDir Path dir;

    @Test void rtnInt4IsPackQuantizedWithOurCodesAndRaggedLinearsIgnored() throws IOException {
        Path ct = dir.resolve("ct"), ours = dir.resolve("ours");
        String[] common = {"quantize", "--method", "rtn", "--bits", "4", "--sym", "--group-size", "32", "--no-eval", "--quiet"};
        CliRunner r = CliRunner.run(concat(common, "--format", "compressed-tensors", TestData.demoModel().toString(), ct.toString()));
        assertEquals(0, r.status(), r.err());
        assertEquals(0, CliRunner.run(concat(common, TestData.demoModel().toString(), ours.toString())).status());
        Map<?, ?> q = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(ct.resolve("config.json")))).get("quantization_config");
        assertEquals("compressed-tensors", q.get("quant_method"));
        assertEquals("pack-quantized", q.get("format"));
        List<?> ignore = (List<?>) q.get("ignore");
        assertTrue(ignore.contains("model.layers.0.mlp.down_proj"), ignore.toString()); // d_in 172 is not tiled by 32
        assertFalse(ignore.contains("model.layers.0.mlp.up_proj"));
        try (Arena a = Arena.ofConfined()) {
            Checkpoint c = Checkpoint.open(ct, a), s = Checkpoint.open(ours, a);
            String m = "model.layers.1.self_attn.q_proj";
            assertArrayEquals(s.tensor(m + ".qweight").segment().toArray(ValueLayout.JAVA_BYTE),
                    c.tensor(m + ".weight_packed").segment().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(s.tensor(m + ".scales").segment().toArray(ValueLayout.JAVA_BYTE),
                    c.tensor(m + ".weight_scale").segment().toArray(ValueLayout.JAVA_BYTE));
            assertTrue(c.contains("model.layers.0.mlp.down_proj.weight"));
        }
        CliRunner asym = CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--format", "compressed-tensors",
                TestData.demoModel().toString(), dir.resolve("x").toString());
        assertEquals(2, asym.status());
        assertTrue(asym.err().contains("--sym --bits 4|8"), asym.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
