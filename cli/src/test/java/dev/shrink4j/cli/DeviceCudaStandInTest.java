package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shrink4j.tensors.testing.TestData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole path of {@code --device cuda} on the native module's CPU stand-in driver (built by its
 * tests into native/target/emu): `devices` lists it, and a GPTQ run with every product sent to the
 * "device" ({@code -Dshrink4j.cuda.minWork=0}) writes a checkpoint, in a fresh JVM so the choice is
 * made before any kernel loads.
 */
class DeviceCudaStandInTest {
    static final Path STAND_IN = Path.of(System.getProperty("shrink4j.root", ".."), "native/target/emu/libshrink4j-cudaemu.so");

    static List<String> run(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dshrink4j.cuda.driver=" + STAND_IN, "-Dshrink4j.cuda.minWork=0",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", args));
        assertEquals(0, p.exitValue(), String.join(" ", args) + ": " + err);
        return out.lines().toList();
    }

    @Test
    void devicesListsTheStandInAndGptqRunsOnIt(@TempDir Path dir) throws Exception {
        assumeTrue(Files.exists(STAND_IN), "the stand-in is built by the native module's tests: " + STAND_IN);
        List<String> devices = run(List.of("devices"));
        assertEquals("cuda: driver 13.0 (" + STAND_IN + "), 1 device", devices.get(1));
        assertEquals("  0: shrink4j CUDA emulation (CPU stand-in), compute capability 9.0, 1.0 GiB, 1 SMs", devices.get(2));

        Path out = dir.resolve("gptq");
        run(List.of("quantize", "--method", "gptq", "--bits", "4", "--samples", "2", "--seq-len", "32", "--no-eval", "--quiet",
                "--device", "cuda", TestData.demoModel().toString(), out.toString()));
        assertTrue(Files.exists(out.resolve("config.json")));
        try (var files = Files.list(out)) {
            assertTrue(files.anyMatch(f -> f.toString().endsWith(".safetensors")), "a checkpoint was written");
        }
    }
}
