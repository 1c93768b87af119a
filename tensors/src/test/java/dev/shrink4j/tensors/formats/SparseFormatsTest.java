package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Floats;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
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

    /** Row lengths around the vector widths and their multiples, odd on purpose. */
    private static final int[] AWKWARD_D_IN = {1, 3, 15, 17, 63, 65, 255, 1023, 4098};

    @Test
    void csrValuesInEveryStoredDtypeAtAwkwardSizes() {
        long seed = 50;
        try (Arena arena = Arena.ofConfined()) {
            for (DType vt : new DType[] {DType.F16, DType.BF16, DType.F32}) {
                for (int dIn : AWKWARD_D_IN) {
                    int dOut = 1 + (int) (seed % 7);
                    Random rnd = new Random(seed++);
                    float[] w = FormatChecks.gaussian(rnd, dOut * dIn, 0.05);
                    for (int i = 0; i < w.length; i++) if (rnd.nextDouble() < 0.6) w[i] = 0;
                    CsrSparse c = CsrSparse.fromDense(arena, w, dOut, dIn, vt);
                    assertEquals(vt, c.values().dtype());
                    float[] stored = FormatChecks.dense(c);
                    for (int i = 0; i < w.length; i++) {
                        assertEquals(roundTo(vt, w[i]), stored[i], 0f, vt + " value " + i);
                    }
                    FormatChecks.checkKernels(c, seed);
                    // scalar and Panama give the same bits (one summation order per row)
                    float[] x = FormatChecks.gaussian(rnd, dIn, 1.0);
                    float[] ys = new float[dOut], yp = new float[dOut];
                    c.matvec(x, ys, FormatKernels.scalar());
                    c.matvec(x, yp, FormatKernels.panama().orElse(FormatKernels.scalar()));
                    assertArrayEquals(ys, yp, vt + " (" + dOut + ", " + dIn + ")");
                    CsrSparse back = (CsrSparse) FormatChecks.checkRoundTrip(c, "m");
                    assertEquals(vt, back.values().dtype());
                }
            }
        }
    }

    @Test
    void csrReadsOldDescriptorsAndRefusesAMismatchedValuesDtype() {
        try (Arena arena = Arena.ofConfined()) {
            float[] w = {0, 2, 0, 0.1f, /**/ -1, 0, 0, 0};
            CsrSparse f32 = CsrSparse.fromDense(arena, w, 2, 4, DType.F32);
            Map<String, Tensor> t = f32.toTensors("m");
            // written before values_dtype existed: F32 values, no key
            Map<String, Object> old = new LinkedHashMap<>(f32.descriptor());
            old.remove("values_dtype");
            CsrSparse back = (CsrSparse) Formats.fromTensors("m", old, t);
            assertArrayEquals(w, FormatChecks.dense(back));
            Map<String, Object> wrong = new LinkedHashMap<>(f32.descriptor());
            wrong.put("values_dtype", "F16");
            ShrinkException e = assertThrows(ShrinkException.class, () -> Formats.fromTensors("m", wrong, t));
            assertEquals("module 'm': descriptor says values_dtype F16 but m.sparse_values is F32", e.getMessage());
        }
    }

    private static float roundTo(DType vt, float v) {
        return switch (vt) {
            case F16 -> f16(v);
            case BF16 -> Floats.bf16ToF32(Floats.f32ToBf16(v));
            default -> v;
        };
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

    /** Golden 2:4 with int8 symmetric kept values (z = 128): positions kept, values s·(q − 128), zeros elsewhere. */
    @Test
    void nmQuantizedGolden() {
        try (Arena arena = Arena.ofConfined()) {
            // kept per row: 2 of 4 → (1, 2); codes 130, 124 with scale 0.5 → 1, −2 at columns 1 and 3
            UniformQuantized v = UniformQuantized.of(arena, 1, 2, 8, 2, new int[] {130, 124}, new float[] {0.5f}, null, null);
            NmQuantized q = NmQuantized.of(arena, 4, 2, 4, v, new int[] {1, 3});
            assertArrayEquals(new float[] {0, 1, 0, -2}, FormatChecks.dense(q));
            float[] y = new float[1];
            q.matvec(new float[] {5, 3, 7, 2}, y, FormatKernels.scalar());
            assertEquals(-1f, y[0]);
            // 2 int8 codes + one F16 scale + one byte of 2-bit indices per row of 4
            assertEquals((16 + 16 + 8) / 4.0, q.bitsPerWeight(), 1e-12);
            assertThrows(IllegalArgumentException.class, () -> NmQuantized.of(arena, 4, 2, 4, v, new int[] {3, 1}));
        }
    }

    /**
     * Quantized N:M at awkward sizes against the dequantized reference with every kernel (Panama's fast
     * path for 2:4 and 4/8-bit codes with groups a multiple of its lanes, its scalar fallback otherwise),
     * ragged last groups and tails of kept values past the last whole chunk, and the round trip.
     */
    @Test
    void nmQuantizedKernelsAndRoundTrip() {
        long seed = 90;
        try (Arena arena = Arena.ofConfined()) {
            for (int[] nm : new int[][] {{2, 4}, {4, 8}, {1, 4}}) {
                for (int[] s : new int[][] {{1, 16}, {5, 176}, {3, 1032}, {17, 264}, {2, 8}}) {
                    for (int bits : new int[] {4, 8, 3}) {
                        for (int g : new int[] {32, 64, 7, 16, 48}) { // 16, 48: an odd number of 16-lane chunks per group
                            Random rnd = new Random(seed++);
                            int kept = s[1] / nm[1] * nm[0];
                            float[] vals = FormatChecks.gaussian(rnd, s[0] * kept, 1);
                            int[] idx = new int[s[0] * kept];
                            for (int t = 0; t < idx.length; t++) idx[t] = (t % nm[0]) * (nm[1] / nm[0]) + rnd.nextInt(nm[1] / nm[0]);
                            boolean sym = (seed & 1) == 0;
                            NmQuantized q = NmQuantized.rtn(arena, s[0], s[1], nm[0], nm[1], vals, idx, bits, g, sym);
                            assertEquals(s[1], q.dIn());
                            FormatChecks.checkKernels(q, seed);
                            FormatChecks.checkRoundTrip(q, "m");
                        }
                    }
                }
            }
        }
    }
}
