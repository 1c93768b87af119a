package dev.shrink4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.kernels.Kernels;
import dev.shrink4j.tensors.kernels.KernelsProvider;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** How the CUDA kernels are found: by name from the tensors module, with the absence reason when they cannot be used. */
class SelectionTest {

    @Test
    void withoutADriverTheByNameLoaderSaysWhy() {
        // This JVM names no stand-in, so the default libcuda.so.1 is probed: absent on CI machines.
        if (Cuda.probe() instanceof Cuda.Absent a) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> KernelsProvider.cuda(KernelsProvider.scalar()));
            assertEquals(a.reason(), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
    }

    @Test
    void thePropertySelectsCudaKernelsAndCudaFormatKernelsInAFreshJvm() throws Exception {
        assertEquals("cuda cuda sm_90 0 0", probe("cuda", 1));
    }

    @Test
    void cudaColonNSelectsDeviceNForBothSpis() throws Exception {
        assertEquals("cuda cuda sm_90 1 1", probe("cuda:1", 2));
    }

    /** What {@code -Dshrink4j.kernels=kernels} selects in a fresh JVM on a stand-in with {@code devices} devices. */
    static String probe(String kernels, int devices) throws Exception {
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dshrink4j.kernels=" + kernels, "-D" + Cuda.DRIVER_PROPERTY + "=" + Emulator.library(),
                "-cp", System.getProperty("java.class.path"), Probe.class.getName());
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("SHRINK4J_EMU_DEVICES", Integer.toString(devices));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), err);
        return out.strip();
    }

    /** Prints what the property selected: both names, the PTX loaded and each SPI's device (run in the child JVM). */
    public static final class Probe {
        public static void main(String[] args) {
            Kernels k = Kernels.get();
            FormatKernels f = FormatKernels.get();
            System.out.println(k.name() + " " + f.name() + " " + ((CudaKernels) k).device().ptxTarget()
                    + " " + ((CudaKernels) k).device().info().ordinal() + " " + ((CudaFormatKernels) f).device().info().ordinal());
        }
    }
}
