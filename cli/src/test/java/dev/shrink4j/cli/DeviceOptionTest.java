package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shrink4j.cuda.Cuda;
import dev.shrink4j.tensors.kernels.Kernels;
import dev.shrink4j.tensors.testing.TestData;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --device} and {@code shrink4j devices} on a machine without a GPU (every CI run). */
class DeviceOptionTest {

    static void assumeNoGpu() {
        assumeTrue(Cuda.probe() instanceof Cuda.Absent, "a CUDA driver is installed here: the absence paths are not exercised");
    }

    @Test
    void devicesPrintsTheCpuKernelsAndWhyThereIsNoCuda() {
        assumeNoGpu();
        CliRunner r = CliRunner.run("devices");
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(2, lines.length, r.out());
        assertTrue(lines[0].startsWith("cpu: " + Kernels.get().name() + " kernels, "), lines[0]);
        assertEquals("cuda: none (" + ((Cuda.Absent) Cuda.probe()).reason() + ")", lines[1]);
    }

    @Test
    void deviceCudaWithoutAGpuIsOneLineAndExitTwo(@TempDir Path dir) {
        assumeNoGpu();
        Path out = dir.resolve("out");
        CliRunner r = CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--no-eval", "--device", "cuda",
                TestData.demoModel().toString(), out.toString());
        assertEquals(2, r.status(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("shrink4j quantize: --device cuda: no usable CUDA device: "), r.err());
        assertFalse(out.toFile().exists());
        assertEquals(Kernels.get().name(), dev.shrink4j.tensors.kernels.KernelsProvider.cpu().name(), "the selection is undone after the command");
    }

    @Test
    void deviceAutoAndCpuSilentlyUseTheCpu(@TempDir Path dir) {
        assumeNoGpu();
        CliRunner auto = CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--no-eval", "--device", "auto",
                TestData.demoModel().toString(), dir.resolve("auto").toString());
        CliRunner cpu = CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--no-eval", "--device", "cpu",
                TestData.demoModel().toString(), dir.resolve("cpu").toString());
        assertEquals(0, auto.status(), auto.err());
        assertEquals(0, cpu.status(), cpu.err());
        assertFalse(auto.err().toLowerCase(java.util.Locale.ROOT).contains("cuda"), auto.err());
        assertFalse(auto.out().toLowerCase(java.util.Locale.ROOT).contains("cuda"), auto.out());
    }

    @Test
    void onlyCommandsThatComputeTakeDevice() {
        for (Command c : Commands.all()) {
            assertEquals(c.computes(), Main.optionsOf(c).hasLongOption("device"), c.name());
        }
        assertFalse(Main.command("inspect").computes());
        assertTrue(Main.command("quantize").computes());
    }
}
