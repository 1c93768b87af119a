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

/** {@code quantize|prune --format compressed-tensors}: checked against the format's description (no vLLM here). */
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
        CliRunner lut = CliRunner.run("quantize", "--method", "squeezellm", "--bits", "4", "--format", "compressed-tensors",
                TestData.demoModel().toString(), dir.resolve("x").toString());
        assertEquals(2, lut.status());
        assertTrue(lut.err().contains("--bits 4|8 [--sym]"), lut.err());
        assertFalse(Files.exists(dir.resolve("x")));
    }

    @Test void asymmetricRtnCarriesZeroPointsPackedAlongTheOutputDimension() throws IOException {
        Path ct = dir.resolve("ct-asym"), ours = dir.resolve("ours-asym");
        String[] common = {"quantize", "--method", "rtn", "--bits", "4", "--group-size", "32", "--no-eval", "--quiet"};
        CliRunner r = CliRunner.run(concat(common, "--format", "compressed-tensors", TestData.demoModel().toString(), ct.toString()));
        assertEquals(0, r.status(), r.err());
        assertEquals(0, CliRunner.run(concat(common, TestData.demoModel().toString(), ours.toString())).status());
        Map<?, ?> q = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(ct.resolve("config.json")))).get("quantization_config");
        Map<?, ?> w = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) q.get("config_groups")).get("group_0")).get("weights");
        assertEquals(false, w.get("symmetric"));
        try (Arena a = Arena.ofConfined()) {
            Checkpoint c = Checkpoint.open(ct, a), s = Checkpoint.open(ours, a);
            String m = "model.layers.0.self_attn.k_proj"; // (32, 64): 2 groups, 32 rows → 4 words of 8 zero points per group
            var zp = c.tensor(m + ".weight_zero_point");
            assertEquals(dev.shrink4j.tensors.DType.I32, zp.dtype());
            assertArrayEquals(new long[] {4, 2}, zp.shape().dims());
            var zeros = s.tensor(m + ".zeros"); // ours: U8 (32, 1), both groups' nibbles in one byte per row
            for (int j = 0; j < 32; j++) {
                for (int g = 0; g < 2; g++) {
                    int ourZ = zeros.segment().get(ValueLayout.JAVA_BYTE, j) >> (4 * g) & 0xF;
                    int word = zp.segment().getAtIndex(ValueLayout.JAVA_INT, (long) (j / 8) * 2 + g);
                    assertEquals(ourZ, word >>> (4 * (j % 8)) & 0xF, "row " + j + " group " + g);
                }
            }
        }
    }

    @Test void pruned24IsSparse24BitmaskAndQuantizingItToCompressedTensorsIsRefused() throws IOException {
        Path ct = dir.resolve("s24-ct"), nm = dir.resolve("s24");
        String[] common = {"prune", "--method", "magnitude", "--pattern", "2:4", "--no-eval", "--quiet"};
        CliRunner r = CliRunner.run(concat(common, "--format", "compressed-tensors", TestData.demoModel().toString(), ct.toString()));
        assertEquals(0, r.status(), r.err());
        assertEquals(0, CliRunner.run(concat(common, TestData.demoModel().toString(), nm.toString())).status());
        Map<?, ?> q = (Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(ct.resolve("config.json")))).get("quantization_config");
        Map<?, ?> sc = (Map<?, ?>) q.get("sparsity_config");
        assertEquals("sparse-24-bitmask", sc.get("format"));
        assertEquals("2:4", sc.get("sparsity_structure"));
        assertEquals(List.of("lm_head"), sc.get("ignore")); // every block linear is 2:4 (172 is a multiple of 4)
        assertEquals(0.5, (Double) sc.get("global_sparsity"), 1e-12);
        try (Arena a = Arena.ofConfined()) {
            Checkpoint c = Checkpoint.open(ct, a);
            String m = "model.layers.1.mlp.up_proj";
            Map<String, dev.shrink4j.tensors.Tensor> t = new java.util.HashMap<>();
            for (String suffix : new String[] {".shape", ".compressed", ".bitmask"}) t.put(m + suffix, c.tensor(m + suffix));
            float[] back = dev.shrink4j.quantize.CompressedTensorsSparse24.decompress(m, t);
            var model = dev.shrink4j.model.LlamaModel.load(nm, a);
            float[] expected = model.layer(1).linear(dev.shrink4j.model.Proj.UP).weight(a).toFloatArray();
            assertArrayEquals(expected, back);
        }
        CliRunner refused = CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--sym", "--group-size", "32", "--format", "compressed-tensors",
                "--no-eval", nm.toString(), dir.resolve("q").toString());
        assertEquals(2, refused.status());
        assertTrue(refused.err().contains("marlin-24"), refused.err());
        assertFalse(Files.exists(dir.resolve("q")));
        CliRunner unstructured = CliRunner.run("prune", "--method", "magnitude", "--sparsity", "0.5", "--format", "compressed-tensors",
                TestData.demoModel().toString(), dir.resolve("u").toString());
        assertEquals(2, unstructured.status());
        assertTrue(unstructured.err().contains("--pattern 2:4"), unstructured.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
