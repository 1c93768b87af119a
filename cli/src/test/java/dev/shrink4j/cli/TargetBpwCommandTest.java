package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code quantize --target-bpw}: within the budget, bits recorded per module, and refused where it cannot apply. */
class TargetBpwCommandTest {
    @TempDir Path dir;

    @Test
    @SuppressWarnings("unchecked")
    void theOutputStoresAtMostTheTargetWithMixedBits() throws IOException {
        Path out = dir.resolve("out");
        CliRunner r = CliRunner.run("quantize", "--method", "gptq", "--target-bpw", "3.5", "--group-size", "64", "--calib", "random",
                "--samples", "2", "--seq-len", "32", "--no-eval", "--quiet", "--report", dir.resolve("report").toString(),
                TestData.demoModel().toString(), out.toString());
        assertEquals(0, r.status(), r.err());
        double bits = Double.parseDouble(r.out().replaceAll("(?s).*block linears ([0-9.]+) bits/weight.*", "$1"));
        assertTrue(bits <= 3.5 && bits > 3.3, r.out());
        Map<String, Object> report = (Map<String, Object>) Json.parse(Files.readString(dir.resolve("report/report.json")));
        Map<String, Object> mp = (Map<String, Object>) report.get("mixed_precision");
        assertTrue((Double) mp.get("chosen_bits_per_weight") <= 3.5);
        Map<String, Object> tensors = (Map<String, Object>) ((Map<String, Object>) Json.parse(Files.readString(out.resolve("config.json")))).get("shrink4j");
        long distinct = ((Map<String, Object>) tensors.get("tensors")).values().stream().map(d -> ((Map<String, Object>) d).get("bits")).distinct().count();
        assertTrue(distinct >= 2, "mixed bit-widths in the output");
    }

    @Test
    void refusedWhereItCannotApplyBeforeAnyWork() {
        String demo = TestData.demoModel().toString();
        String out = dir.resolve("out").toString();
        CliRunner lut = CliRunner.run("quantize", "--method", "squeezellm", "--target-bpw", "3", demo, out);
        assertEquals(2, lut.status());
        assertTrue(lut.err().contains("--target-bpw applies to the uniform methods"), lut.err());
        CliRunner rtn = CliRunner.run("quantize", "--method", "rtn", "--target-bpw", "3", demo, out);
        assertEquals(2, rtn.status());
        assertTrue(rtn.err().contains("give rtn a --calib"), rtn.err());
        CliRunner gguf = CliRunner.run("quantize", "--method", "gptq", "--target-bpw", "3", "--format", "gguf", "--sym", "--group-size", "32", demo, out);
        assertEquals(2, gguf.status());
        CliRunner low = CliRunner.run("quantize", "--method", "gptq", "--target-bpw", "1.5", "--calib", "random", "--samples", "2", "--seq-len", "32",
                "--no-eval", "--quiet", demo, out);
        assertEquals(2, low.status());
        assertTrue(low.err().contains("--target-bpw 1.5 is below what 2 bits everywhere stores"), low.err());
        assertFalse(Files.exists(dir.resolve("out")));
    }
}
