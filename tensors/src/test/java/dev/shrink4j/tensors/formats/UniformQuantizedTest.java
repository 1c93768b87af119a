package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UniformQuantizedTest {
    /** RTN relative RMS error ‖Ŵ − W‖/‖W‖ on Gaussian weights, group 128, asymmetric (ggml-style named thresholds). */
    static final Map<Integer, Double> RTN_REL_RMSE_MAX = Map.of(2, 0.60, 3, 0.26, 4, 0.12, 8, 0.008);
    /** Relative error of the quantized dot ŵ·x against w·x, averaged over rows, group 128. */
    static final Map<Integer, Double> RTN_DOT_REL_ERR_MAX = Map.of(2, 0.65, 3, 0.30, 4, 0.14, 8, 0.01);

    @Test
    void goldenTwoByFourAsymmetricGroupTwo() {
        try (Arena arena = Arena.ofConfined()) {
            // row 0: groups {q 0,15 | s .5 z 8} {q 3,4 | s .25 z 4}; row 1: {q 8,8 | s 1 z 8} {q 15,0 | s 2 z 0}
            UniformQuantized w = UniformQuantized.of(arena, 2, 4, 4, 2,
                    new int[] {0, 15, 3, 4, 8, 8, 15, 0},
                    new float[] {0.5f, 0.25f, 1f, 2f},
                    new int[] {8, 4, 8, 0}, null);
            float[] d = FormatChecks.dense(w);
            assertArrayEquals(new float[] {-4f, 3.5f, -0.25f, 0f, 0f, 0f, 30f, 0f}, d);
            assertEquals(2 + 2, w.qweight().byteSize()); // two rows of 4 nibbles
            assertEquals(8 * 4 + 16 * 4 + 8 * 2, 8 * w.storageBytes()); // codes + 4 F16 scales + two 4-bit zeros (one byte) per row
            float[] y = new float[2];
            w.matvec(new float[] {1, 2, 3, 4}, y, FormatKernels.scalar());
            assertArrayEquals(new float[] {-4 + 7 - 0.75f, 90}, y);
        }
    }

    @Test
    void builderStoresExactlyWhatWasSet() {
        Random rnd = new Random(2);
        try (Arena arena = Arena.ofConfined()) {
            for (int bits : new int[] {2, 3, 4, 8}) {
                int dOut = 5, dIn = 172, g = 32, ng = 6;
                int[] q = new int[dOut * dIn];
                for (int i = 0; i < q.length; i++) q[i] = rnd.nextInt(1 << bits);
                float[] s = new float[dOut * ng];
                int[] z = new int[dOut * ng];
                for (int i = 0; i < s.length; i++) {
                    s[i] = UniformQuantized.roundScale((float) rnd.nextDouble());
                    z[i] = rnd.nextInt(1 << bits);
                }
                UniformQuantized w = UniformQuantized.of(arena, dOut, dIn, bits, g, q, s, z, null);
                float[] d = FormatChecks.dense(w);
                for (int j = 0; j < dOut; j++) {
                    for (int i = 0; i < dIn; i++) {
                        assertEquals(q[j * dIn + i], w.code(j, i));
                        int gi = i / g;
                        assertEquals(s[j * ng + gi] * (q[j * dIn + i] - z[j * ng + gi]), d[j * dIn + i], 0f);
                    }
                    for (int gi = 0; gi < ng; gi++) {
                        assertEquals(z[j * ng + gi], w.zero(j, gi));
                        assertEquals(s[j * ng + gi], w.scale(j, gi));
                    }
                }
                assertEquals(bits * dIn / 8.0, w.rowBytes(), 1.0);
            }
        }
    }

    @Test
    void rtnErrorStaysUnderNamedThresholdsAndShrinksWithBits() {
        Random rnd = new Random(3);
        int dOut = 16, dIn = 512;
        float[] wf = FormatChecks.gaussian(rnd, dOut * dIn, 0.02);
        float[] x = FormatChecks.gaussian(rnd, dIn, 1.0);
        double prev = Double.MAX_VALUE;
        try (Arena arena = Arena.ofConfined()) {
            for (int bits : new int[] {2, 3, 4, 8}) {
                UniformQuantized w = UniformQuantized.rtn(arena, wf, dOut, dIn, bits, 128, false);
                float[] d = FormatChecks.dense(w);
                double num = 0, den = 0;
                for (int i = 0; i < d.length; i++) {
                    num += (d[i] - wf[i]) * (double) (d[i] - wf[i]);
                    den += wf[i] * (double) wf[i];
                }
                double rel = Math.sqrt(num / den);
                assertTrue(rel < RTN_REL_RMSE_MAX.get(bits), bits + "-bit RTN rel RMSE " + rel);
                assertTrue(rel < prev, "error shrinks as bits grow");
                prev = rel;
                float[] y = new float[dOut];
                w.matvec(x, y);
                double dotErr = 0;
                for (int j = 0; j < dOut; j++) {
                    double ref = 0;
                    for (int i = 0; i < dIn; i++) ref += wf[j * dIn + i] * (double) x[i];
                    dotErr += Math.abs(y[j] - ref) / Math.sqrt(dIn * 0.02 * 0.02);
                }
                assertTrue(dotErr / dOut < RTN_DOT_REL_ERR_MAX.get(bits), bits + "-bit dot error " + dotErr / dOut);
                double zeroBits = 8.0 * ((4 * bits + 7) / 8) / dIn; // four b-bit zeros per row, padded to a byte
                assertEquals(bits + 16.0 / 128 + zeroBits, w.bitsPerWeight(), 1e-12, "b + 16/G (F16 scale) + packed zeros");
                assertEquals(bits, w.payloadBitsPerWeight(), 1e-12);
            }
        }
    }

    @Test
    void symmetricRtnUsesTheMidpointZero() {
        Random rnd = new Random(4);
        float[] wf = FormatChecks.gaussian(rnd, 4 * 64, 1);
        try (Arena arena = Arena.ofConfined()) {
            UniformQuantized w = UniformQuantized.rtn(arena, wf, 4, 64, 4, 32, true);
            assertEquals(8, w.zero(3, 1));
            assertEquals(4 + 16.0 / 32, w.bitsPerWeight(), 1e-12);
            for (int j = 0; j < 4; j++) {
                for (int g = 0; g < 2; g++) {
                    float amax = 0;
                    for (int i = g * 32; i < g * 32 + 32; i++) amax = Math.max(amax, Math.abs(wf[j * 64 + i]));
                    assertEquals(UniformQuantized.roundScale(2 * amax / 15), w.scale(j, g));
                }
            }
        }
    }

    @Test
    void kernelsMatchDequantizeThenDenseOnAwkwardShapes() {
        // (d_out, d_in, group): ragged groups, one column, d_in below/above one vector block, stories260K's 172.
        int[][] shapes = {{3, 1, 1}, {5, 33, 8}, {4, 172, 172}, {7, 172, 32}, {6, 172, 64}, {5, 300, 128}, {3, 520, 128}, {4, 512, 256},
            {3, 256, 5}, {9, 1024, 1024}, {2, 384, 96}};
        long seed = 10;
        try (Arena arena = Arena.ofConfined()) {
            for (int bits : new int[] {2, 3, 4, 8}) {
                for (int[] s : shapes) {
                    for (boolean sym : new boolean[] {false, true}) {
                        Random rnd = new Random(seed++);
                        float[] wf = FormatChecks.gaussian(rnd, s[0] * s[1], 0.05);
                        UniformQuantized w = UniformQuantized.rtn(arena, wf, s[0], s[1], bits, s[2], sym);
                        FormatChecks.checkKernels(w, seed);
                    }
                }
            }
        }
    }

    @Test
    void actOrderGroupIndexIsHonouredByEveryKernel() {
        Random rnd = new Random(5);
        int dOut = 6, dIn = 300, g = 64, ng = 5;
        try (Arena arena = Arena.ofConfined()) {
            int[] perm = new int[dIn];
            for (int i = 0; i < dIn; i++) perm[i] = i;
            for (int i = dIn - 1; i > 0; i--) {
                int k = rnd.nextInt(i + 1), t = perm[i];
                perm[i] = perm[k];
                perm[k] = t;
            }
            int[] gIdx = new int[dIn];
            for (int i = 0; i < dIn; i++) gIdx[perm[i]] = i / g; // GPTQ: column perm[i] is quantized i-th
            int[] q = new int[dOut * dIn];
            for (int i = 0; i < q.length; i++) q[i] = rnd.nextInt(16);
            float[] s = new float[dOut * ng];
            int[] z = new int[dOut * ng];
            for (int i = 0; i < s.length; i++) {
                s[i] = (float) rnd.nextDouble();
                z[i] = rnd.nextInt(16);
            }
            UniformQuantized w = UniformQuantized.of(arena, dOut, dIn, 4, g, q, s, z, gIdx);
            float[] d = FormatChecks.dense(w);
            for (int j = 0; j < dOut; j++) {
                for (int i = 0; i < dIn; i++) {
                    int gi = gIdx[i];
                    assertEquals(UniformQuantized.roundScale(s[j * ng + gi]) * (q[j * dIn + i] - z[j * ng + gi]), d[j * dIn + i], 0f);
                }
            }
            FormatChecks.checkKernels(w, 6);
            assertEquals(4 + (16 + 4) * ng / (double) dIn + 32.0 / dOut, w.bitsPerWeight(), 0.02);
            CompressedWeight back = FormatChecks.checkRoundTrip(w, "model.layers.0.mlp.down_proj");
            assertEquals(Boolean.TRUE, back.descriptor().get("act_order"));
        }
    }

    @Test
    void tensorRoundTripAndLayout() {
        Random rnd = new Random(7);
        try (Arena arena = Arena.ofConfined()) {
            UniformQuantized w = UniformQuantized.rtn(arena, FormatChecks.gaussian(rnd, 8 * 172, 1), 8, 172, 3, 64, false);
            Map<String, Tensor> t = w.toTensors("m");
            assertEquals(java.util.List.of("m.qweight", "m.scales", "m.zeros"), java.util.List.copyOf(t.keySet()));
            assertEquals(DType.U8, t.get("m.qweight").dtype());
            assertArrayEquals(new long[] {8, 65}, t.get("m.qweight").shape().dims()); // ceil(172·3/8)
            assertArrayEquals(new long[] {8, 3}, t.get("m.scales").shape().dims());
            assertArrayEquals(new long[] {8, 2}, t.get("m.zeros").shape().dims()); // ceil(3·3/8)
            FormatChecks.checkRoundTrip(w, "m");
        }
    }

    @Test
    void readingAWrongTensorNamesItAndWhatWasExpected() {
        Random rnd = new Random(8);
        try (Arena arena = Arena.ofConfined()) {
            UniformQuantized w = UniformQuantized.rtn(arena, FormatChecks.gaussian(rnd, 4 * 64, 1), 4, 64, 4, 32, false);
            Map<String, Tensor> t = new HashMap<>(w.toTensors("m"));
            t.remove("m.zeros");
            ShrinkException e = assertThrows(ShrinkException.class, () -> Formats.fromTensors("m", w.descriptor(), t));
            assertTrue(e.getMessage().contains("m.zeros"), e.getMessage());
            t.put("m.zeros", Tensor.allocate(arena, DType.U8, dev.shrink4j.tensors.Shape.matrix(4, 3)));
            e = assertThrows(ShrinkException.class, () -> Formats.fromTensors("m", w.descriptor(), t));
            assertTrue(e.getMessage().contains("[4, 1]"), e.getMessage());
            Map<String, Object> bad = new HashMap<>(w.descriptor());
            bad.put("format", "gguf");
            e = assertThrows(ShrinkException.class, () -> Formats.fromTensors("m", bad, t));
            assertTrue(e.getMessage().contains("gguf"), e.getMessage());
        }
    }
}
