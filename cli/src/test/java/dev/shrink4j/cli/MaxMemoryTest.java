package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --max-memory}: refused up front from the estimate, otherwise the run stays under it (measured RssAnon). */
class MaxMemoryTest {
    static final long MIB = 1 << 20;
    @TempDir
    Path dir;

    @Test
    void aBudgetBelowTheEstimateIsRefusedBeforeAnyWork() {
        for (String command : List.of("quantize", "prune", "lowrank")) {
            String method = switch (command) {
                case "quantize" -> "gptq";
                case "prune" -> "wanda";
                default -> "whitened-svd";
            };
            List<String> a = new java.util.ArrayList<>(List.of(command, "--method", method, "--max-memory", "200m", "--quiet"));
            if (command.equals("prune")) a.addAll(List.of("--sparsity", "0.5"));
            if (command.equals("lowrank")) a.addAll(List.of("--params-ratio", "0.5"));
            a.addAll(List.of(TestData.demoModel().toString(), dir.resolve(command).toString()));
            CliRunner r = CliRunner.run(a.toArray(String[]::new));
            assertEquals(2, r.status(), command + ": " + r.err());
            assertTrue(r.err().contains("--max-memory 200m: this run needs about") && r.err().contains("calibration activations"), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(Files.exists(dir.resolve(command)));
        }
    }

    @Test
    void sizesAreReadInBinaryUnitsAndNonsenseIsAUsageError() {
        assertEquals(4L << 30, CompressionRun.parseSize("--max-memory", "4g"));
        assertEquals(1500 * MIB, CompressionRun.parseSize("--max-memory", "1500MiB"));
        assertEquals(512L << 10, CompressionRun.parseSize("--max-memory", "512k"));
        CliRunner r = CliRunner.run("quantize", "--method", "rtn", "--max-memory", "lots", TestData.demoModel().toString(), dir.resolve("o").toString());
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("expected a size"), r.err());
    }

    /** The heap the launcher would give, a budget just above the estimate, and the peak RssAnon the run reports. */
    @Test
    void anAcceptedRunStaysUnderItsBudget() throws Exception {
        String in = TestData.demoModel().toString();
        String[] args = {"quantize", "--method", "gptq", "--bits", "4", "--samples", "4", "--seq-len", "64", "--no-eval",
                "--max-memory", "600m", in, dir.resolve("out").toString()};
        long heap = HeapPlan.estimate(List.of(args));
        assertTrue(heap > 0 && heap < 600 * MIB, "heap " + heap);
        Path err = dir.resolve("err.txt");
        Path outFile = dir.resolve("out.txt");
        List<String> cmd = ChildJvm.withHeap("-Xmx" + Math.ceilDiv(heap, MIB) + "m", args);
        Process p = new ProcessBuilder(cmd).redirectOutput(outFile.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), Files.readString(err));
        Matcher m = Pattern.compile("peak RssAnon ([0-9.]+) MiB").matcher(Files.readString(outFile));
        assertTrue(m.find(), Files.readString(outFile));
        double peakMib = Double.parseDouble(m.group(1));
        assertTrue(peakMib < 600, "peak RssAnon " + peakMib + " MiB over the 600 MiB budget");
    }
}
