package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import dev.shrink4j.tensors.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad -Dshrink4j.* settings are read when the kernels load, so they are checked in a fresh JVM: one
 * line naming the setting, exit 2, nothing written.
 */
class BadSettingsTest {
    @Test
    void badKernelSettingsGiveOneLineAndExitTwo(@TempDir Path dir) throws IOException, InterruptedException {
        for (String setting : new String[] {"-Dshrink4j.poll.micros=abc", "-Dshrink4j.threads=0", "-Dshrink4j.kernels=fast"}) {
            Path out = dir.resolve("out");
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                    // the launcher's JVM flags: --device auto probes the CUDA driver through FFM
                    "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", setting, "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "quantize", "--method", "rtn", "--bits", "4", "--no-eval",
                    TestData.demoModel().toString(), out.toString()));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
            String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), setting);
            List<String> lines = stderr.lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")).toList();
            assertEquals(2, p.exitValue(), setting + ": " + stderr);
            assertEquals(1, lines.size(), setting + ": " + stderr);
            assertTrue(lines.get(0).contains(setting.substring(2, setting.indexOf('='))), lines.get(0));
            assertFalse(Files.exists(out));
            assertFalse(stdout.contains("Exception"), stdout);
        }
    }
}
