package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.shrink4j.tensors.Floats;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SparseFormatsTest {
    private static float f16(float v) {
        return Floats.f16ToF32(Floats.f32ToF16(v));
    }

    private static float[] sparse(Random rnd, int n, double density) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) if (rnd.nextDouble() < density) w[i] = f16((float) rnd.nextGaussian());
        return w;
    }

    @Test
    void csrGoldenAndBits() {
        try (Arena arena = Arena.ofConfined()) {
            float[] w = {0, 2, 0, 0, /**/ 0, 0, 0, 0, /**/ -1, 0, 0, 0.5f};
            CsrSparse s = CsrSparse.fromDense(arena, w, 3, 4);
            assertEquals(3, s.nnz());
            assertArrayEquals(w, FormatChecks.dense(s));
            assertEquals((48 * 3 + 32 * 4) / 12.0, s.bitsPerWeight(), 1e-12, "48 bits per non-zero + 32·(d_out + 1)");
            float[] y = new float[3];
            s.matvec(new float[] {1, 2, 3, 4}, y, FormatKernels.scalar());
            assertArrayEquals(new float[] {4, 0, 1}, y);
        }
    }

    @Test
    void csrKernelsAndRoundTrip() {
        long seed = 30;
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : new int[][] {{1, 1}, {7, 33}, {5, 172}, {16, 300}}) {
                Random rnd = new Random(seed++);
                float[] w = sparse(rnd, s[0] * s[1], 0.1);
                CsrSparse c = CsrSparse.fromDense(arena, w, s[0], s[1]);
                assertArrayEquals(w, FormatChecks.dense(c));
                FormatChecks.checkKernels(c, seed);
                FormatChecks.checkRoundTrip(c, "m");
            }
        }
    }

    @Test
    void denseAndSparseAddsTheOutliers() {
        Random rnd = new Random(31);
        int dOut = 6, dIn = 172;
        try (Arena arena = Arena.ofConfined()) {
            UniformQuantized base = UniformQuantized.rtn(arena, FormatChecks.gaussian(rnd, dOut * dIn, 0.02), dOut, dIn, 3, 64, false);
            float[] out = sparse(rnd, dOut * dIn, 0.005);
            CsrSparse s = CsrSparse.fromDense(arena, out, dOut, dIn);
            DenseAndSparse ds = new DenseAndSparse(base, s);
            float[] b = FormatChecks.dense(base), d = FormatChecks.dense(ds);
            for (int i = 0; i < d.length; i++) assertEquals(b[i] + out[i], d[i], 0f);
            assertEquals(base.bitsPerWeight() + s.bitsPerWeight(), ds.bitsPerWeight(), 1e-12);
            FormatChecks.checkKernels(ds, 32);
            FormatChecks.checkRoundTrip(ds, "model.layers.1.self_attn.o_proj");
            assertThrows(IllegalArgumentException.class, () -> new DenseAndSparse(ds, s));
        }
    }

    @Test
    void nmGoldenTwoFour() {
        try (Arena arena = Arena.ofConfined()) {
            float[] w = {0, 1.5f, 0, -2, /**/ 3, 0, 0, 0};
            NmSparse s = NmSparse.fromDense(arena, w, 2, 4, 2, 4);
            assertArrayEquals(w, FormatChecks.dense(s));
            // 2 F16 values + 2 two-bit indices per row of 4 → (32 + 8) bits per 4 weights (index row padded to a byte)
            assertEquals((2 * (32 + 8)) / 8.0, s.bitsPerWeight(), 1e-12);
            assertThrows(IllegalArgumentException.class, () -> NmSparse.fromDense(arena, new float[] {1, 1, 1, 0}, 1, 4, 2, 4));
        }
    }

    @Test
    void nmKernelsAndRoundTrip() {
        long seed = 40;
        try (Arena arena = Arena.ofConfined()) {
            for (int[] nm : new int[][] {{2, 4}, {4, 8}, {1, 4}, {8, 16}}) {
                for (int[] s : new int[][] {{1, 16}, {5, 176}, {8, 512}, {3, 1024}}) {
                    Random rnd = new Random(seed++);
                    float[] w = new float[s[0] * s[1]];
                    for (int g = 0; g < w.length / nm[1]; g++) {
                        // keep a random subset of at most n per run
                        for (int t = 0; t < nm[0]; t++) {
                            int i = rnd.nextInt(nm[1]);
                            w[g * nm[1] + i] = f16((float) rnd.nextGaussian());
                        }
                    }
                    NmSparse ns = NmSparse.fromDense(arena, w, s[0], s[1], nm[0], nm[1]);
                    assertArrayEquals(w, FormatChecks.dense(ns));
                    double idxBits = 8.0 * ns.indexRowBytes() / s[1];
                    assertEquals(16.0 * nm[0] / nm[1] + idxBits, ns.bitsPerWeight(), 1e-12);
                    FormatChecks.checkKernels(ns, seed);
                    FormatChecks.checkRoundTrip(ns, "m");
                }
            }
        }
    }
}
