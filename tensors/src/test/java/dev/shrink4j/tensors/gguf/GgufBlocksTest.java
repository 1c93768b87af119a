package dev.shrink4j.tensors.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.GgufBlockWeight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GgufBlocksTest {
    /** Worst-case round-trip error as a fraction of the block's absolute maximum, per type. */
    private static final double Q8_0_REL = 0.5 / 127 + 1e-3;
    private static final double Q4_0_REL = 0.5 / 8 * 2 + 1e-3; // step is amax/8, rounding half a step (the clamp at +7 costs one)
    private static final double Q4_1_REL = 0.5 / 15 * 2 + 1e-3; // step is range/15 ≤ 2·amax/15
    private static final float MATVEC_TOL = 1e-4f;

    @Test void q4_0GoldenBlock() {
        // x = j − 16 for j = 0..31: amax element is −16, so d = −16/−8 = 2 and q = round(x/2 + 8) clamped to 15.
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) x[j] = j - 16;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(18);
            GgufBlocks.quantize(GgufType.Q4_0, x, 0, 32, s, 0);
            assertEquals(2.0f, Float.float16ToFloat(s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 0)));
            // element 0: −16/2+8.5 = 0.5 → 0; element 16: 0/2+8.5 → 8; byte 0 = 0 | 8<<4
            assertEquals((byte) 0x80, s.get(ValueLayout.JAVA_BYTE, 2));
            // element 15: −1/2+8.5 = 8.0 → 8; element 31: 15/2+8.5 = 16 → clamp 15; byte 15 = 8 | 15<<4
            assertEquals((byte) 0xF8, s.get(ValueLayout.JAVA_BYTE, 17));
            float[] y = new float[32];
            GgufBlocks.dequantize(GgufType.Q4_0, s, 0, y, 0, 32);
            assertEquals(-16f, y[0]);
            assertEquals(0f, y[15]);  // (8 − 8)·2: −1 rounds up to 0
            assertEquals(14f, y[31]); // (15 − 8)·2
        }
    }

    @Test void roundTripErrorWithinNamedBounds() {
        Random r = new Random(7);
        float[] x = new float[32 * 37];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * (1 + i / 32);
        check(GgufType.Q8_0, x, Q8_0_REL);
        check(GgufType.Q4_0, x, Q4_0_REL);
        check(GgufType.Q4_1, x, Q4_1_REL);
        check(GgufType.F32, x, 0);
        check(GgufType.BF16, x, 1.0 / 256);
        check(GgufType.F16, x, 1.0 / 1024);
    }

    private static void check(GgufType t, float[] x, double rel) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(t.bytes(x.length));
            GgufBlocks.quantize(t, x, 0, x.length, s, 0);
            float[] y = new float[x.length];
            GgufBlocks.dequantize(t, s, 0, y, 0, x.length);
            for (int b = 0; b < x.length; b += 32) {
                float amax = 0;
                for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b + j]));
                for (int j = 0; j < 32; j++) {
                    double err = Math.abs(x[b + j] - y[b + j]);
                    double bound = t.quantized() ? rel * amax : rel * Math.abs(x[b + j]);
                    assertTrue(err <= bound + 1e-7, t + " element " + (b + j) + ": error " + err + " > " + bound);
                }
            }
        }
    }

    @Test void blockWeightMatvecAndMatmulMatchDequantizedReference() {
        Random r = new Random(3);
        int dOut = 5, dIn = 96, m = 3;
        float[] w = new float[dOut * dIn], x = new float[m * dIn];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (GgufType t : new GgufType[] {GgufType.Q4_0, GgufType.Q4_1, GgufType.Q8_0, GgufType.F16}) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = a.allocate(t.bytes(w.length));
                GgufBlocks.quantize(t, w, 0, w.length, s, 0);
                GgufBlockWeight bw = new GgufBlockWeight(t, dOut, dIn, s);
                float[] deq = bw.dequantize(a).toFloatArray();
                float[] y = new float[m * dOut];
                bw.matmul(x, m, y, FormatKernels.scalar());
                float[] yv = new float[dOut];
                for (int row = 0; row < m; row++) {
                    float[] xr = java.util.Arrays.copyOfRange(x, row * dIn, row * dIn + dIn);
                    bw.matvec(xr, yv, FormatKernels.scalar());
                    for (int j = 0; j < dOut; j++) {
                        double ref = 0;
                        for (int i = 0; i < dIn; i++) ref += (double) deq[j * dIn + i] * xr[i];
                        assertEquals(ref, y[row * dOut + j], MATVEC_TOL * (1 + Math.abs(ref)), t + " matmul");
                        assertEquals(y[row * dOut + j], yv[j], 0f, t + " matvec = matmul");
                    }
                }
                assertEquals(t.bitsPerWeight(), bw.bitsPerWeight(), 1e-12);
            }
        }
    }

    @Test void zeroBlockQuantizesToZero() {
        for (GgufType t : new GgufType[] {GgufType.Q4_0, GgufType.Q4_1, GgufType.Q8_0}) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = a.allocate(t.blockBytes);
                GgufBlocks.quantize(t, new float[32], 0, 32, s, 0);
                float[] y = new float[32];
                GgufBlocks.dequantize(t, s, 0, y, 0, 32);
                for (float v : y) assertEquals(0.0, v, 0.0, t.name()); // ggml keeps d = −0 for Q4_0, so −0.0 is right
            }
        }
    }
}
