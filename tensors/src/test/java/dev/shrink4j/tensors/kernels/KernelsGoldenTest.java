package dev.shrink4j.tensors.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-computed small cases, run on every implementation, and the provider's choice. */
class KernelsGoldenTest {
    static final List<Kernels> ALL = List.of(KernelsProvider.scalar(), KernelsProvider.panama(), KernelsProvider.panama().withThreads(1));

    @Test
    void gemmByHand() {
        float[] a = {1, 2, 3, 4, 5, 6};       // (2, 3)
        float[] bt = {1, 0, -1, 2, 1, 0};     // (2, 3): rows are B's columns
        float[] b = {1, 2, 0, 1, -1, 0};      // (3, 2) = btᵀ
        for (Kernels k : ALL) {
            float[] c = new float[4];
            k.gemmABt(2, 2, 3, a, 0, 3, bt, 0, 3, c, 0, 2, false);
            assertArrayEquals(new float[] {-2, 4, -2, 13}, c, k.name());
            k.gemmAB(2, 2, 3, a, 0, 3, b, 0, 2, c, 0, 2, true);
            assertArrayEquals(new float[] {-4, 8, -4, 26}, c, k.name());
            float[] at = {1, 4, 2, 5, 3, 6};  // (3, 2) = aᵀ
            k.gemmAtB(2, 2, 3, at, 0, 2, b, 0, 2, c, 0, 2, false);
            assertArrayEquals(new float[] {-2, 4, -2, 13}, c, k.name());
            float[] d = new float[4], e = new float[4], f = new float[4];
            k.gemmABt(2, 2, 3, a, bt, d);
            k.gemmAB(2, 2, 3, a, b, e);
            k.gemmAtB(2, 2, 3, at, b, f);
            assertArrayEquals(c, d, k.name() + " contiguous A·Bᵀ");
            assertArrayEquals(c, e, k.name() + " contiguous A·B");
            assertArrayEquals(c, f, k.name() + " contiguous Aᵀ·B");
        }
    }

    @Test
    void syrkByHand() {
        float[] x = {1, 2, 3, 4};  // rows (1, 2) and (3, 4)
        for (Kernels k : ALL) {
            float[] h = {0, 0, -7, 0};
            k.syrkUpper(2, 2, x, 0, 2, null, 0, h, 0, 2);
            assertArrayEquals(new float[] {10, 14, -7, 20}, h, k.name());
            float[] hw = new float[4];
            k.syrkUpper(2, 2, x, 0, 2, new float[] {2, 0.5f}, 0, hw, 0, 2);
            assertArrayEquals(new float[] {6.5f, 10, 0, 16}, hw, k.name());
            k.mirrorUpper(2, hw, 0, 2);
            assertArrayEquals(new float[] {6.5f, 10, 10, 16}, hw, k.name());
        }
    }

    @Test
    void dgemmByHand() {
        double[] a = {1, 2, 3, 4};  // (2, 2)
        double[] b = {0, 1, 1, 0};  // (2, 2)
        for (Kernels k : ALL) {
            double[] c = {1, 1, 1, 1};
            k.dgemmABt(2, 2, 2, -1, a, 0, 2, b, 0, 2, 1, c, 0, 2); // C -= A·Bᵀ
            assertArrayEquals(new double[] {-1, 0, -3, -2}, c, k.name());
            k.dgemmAB(2, 2, 2, 2, a, 0, 2, b, 0, 2, 0, c, 0, 2);
            assertArrayEquals(new double[] {4, 2, 8, 6}, c, k.name());
        }
    }

    @Test
    void matvecAndSumByHand() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor w = Tensor.ofFloats(arena, Shape.of(2, 3), new float[] {1, 2, 3, -1, 0, 1});
            for (Kernels k : ALL) {
                float[] y = new float[2];
                k.matvec(w, new float[] {1, 1, 2}, 0, y, 0, false);
                assertArrayEquals(new float[] {9, 1}, y, k.name());
                assertEquals(6.0, k.sum(w), k.name());
                assertEquals(11f, k.dot(3, new float[] {1, 2, 3}, 0, new float[] {2, 0, 3}, 0), k.name());
            }
        }
    }

    @Test
    void providerHonoursTheProperty() {
        assertEquals("scalar", KernelsProvider.choose("scalar").name());
        assertEquals("panama", KernelsProvider.choose("Panama").name());
        assertEquals("panama", KernelsProvider.choose("").name()); // tests run with --add-modules jdk.incubator.vector
        assertThrows(IllegalArgumentException.class, () -> KernelsProvider.choose("cuda-please"));
        assertEquals(3, Kernels.get().withThreads(3).threads());
    }

    @Test
    void rejectsNonMatrixWeights() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor v = Tensor.ofFloats(arena, Shape.of(3), new float[3]);
            for (Kernels k : ALL) {
                assertThrows(IllegalArgumentException.class, () -> k.matvec(v, new float[3], 0, new float[3], 0, false));
            }
        }
    }
}
