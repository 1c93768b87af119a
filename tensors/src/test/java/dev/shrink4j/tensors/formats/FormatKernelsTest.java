package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FormatKernelsTest {
    @Test
    void panamaLoadsWhenTheVectorModuleIsPresentAndIsTheDefault() {
        // surefire runs with --add-modules jdk.incubator.vector; the CPU of any build machine has 128-bit SIMD
        assertTrue(FormatKernels.panama().isPresent(), "Vector API kernels should load under --add-modules jdk.incubator.vector");
        String forced = System.getProperty("shrink4j.kernels", "");
        assertEquals(forced.equals("scalar") ? "scalar" : "panama", FormatKernels.get().name());
        assertEquals("scalar", FormatKernels.scalar().name());
    }
}
