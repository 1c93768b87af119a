package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.Floats;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Int8 activations: the Q8_0-style quantizer, the scalar spec of uniform weights × int8 activations
 * against dequantized weights times dequantized activations, and the Vector API kernel against the
 * spec at awkward sizes (tails shorter than a superblock, a last activation block shorter than 32,
 * one group per row, 4 and 8 bits, symmetric and with zero points, matvec and batched).
 */
class Int8ActivationsTest {
    /** Both sides sum the same exact integer block dots; only the float sum over blocks differs in order. */
    static final double KERNEL_REL = 1e-5;

    static float[] gaussian(int n, long seed, double sigma) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * sigma);
        return v;
    }

    @Test
    void quantizerRoundsLikeGgmlQ8_0() {
        float[] x = gaussian(2 * 70, 1, 3.0);
        x[5] = 0;
        for (int i = 64; i < 70; i++) x[i] = 0; // an all-zero (short) last block of row 0
        Int8Activations q = Int8Activations.quantize(x, 2, 70);
        assertEquals(3, q.blocksPerRow());
        for (int r = 0; r < 2; r++) {
            for (int b = 0; b < 3; b++) {
                float d = q.scales()[r * 3 + b];
                assertEquals(d, Floats.f16ToF32(Floats.f32ToF16(d)), "scale is F16-exact");
                int sum = 0;
                float amax = 0;
                for (int i = b * 32; i < Math.min(70, b * 32 + 32); i++) amax = Math.max(amax, Math.abs(x[r * 70 + i]));
                for (int i = b * 32; i < Math.min(70, b * 32 + 32); i++) {
                    int c = q.q()[r * 70 + i];
                    assertTrue(c >= -127 && c <= 127);
                    sum += c;
                    // codes come from the F32 d; the F16 scale is within 2^-11 of it
                    assertEquals(x[r * 70 + i], d * c, amax / 127 * 0.5 + amax * 1e-3, "value " + i);
                }
                assertEquals(sum, q.sums()[r * 3 + b]);
                if (amax == 0) assertEquals(0f, d);
            }
        }
    }

    @Test
    void roundTripIsTheQuantizedValuesWidenedBack() {
        for (int[] shape : new int[][] {{1, 5}, {3, 70}, {37, 64}}) {
            int rows = shape[0], cols = shape[1];
            float[] x = gaussian(rows * cols, 2 + rows, 3.0);
            x[0] = 0;
            x[x.length - 1] = 2.5f; // ties round away from zero
            Int8Activations q = Int8Activations.quantize(x, rows, cols);
            float[] back = Int8Activations.roundTrip(x, rows, cols);
            int nb = q.blocksPerRow();
            for (int i = 0; i < x.length; i++) {
                int r = i / cols;
                assertEquals(q.scales()[r * nb + (i % cols) / 32] * q.q()[i], back[i], 0f, "value " + i + " of " + rows + " × " + cols);
            }
        }
    }

    @Test
    void specIsDequantizedWeightsTimesDequantizedActivations() {
        try (Arena arena = Arena.ofConfined()) {
            for (int bits : new int[] {4, 8}) {
                for (boolean sym : new boolean[] {true, false}) {
                    int dOut = 5, dIn = 200; // a last activation block of 8 values
                    UniformQuantized w = UniformQuantized.rtn(arena, gaussian(dOut * dIn, 2, 0.02), dOut, dIn, bits, 64, sym);
                    Int8Activations x = Int8Activations.quantize(gaussian(dIn, 3, 1), 1, dIn);
                    float[] y = new float[dOut];
                    ScalarInt8Uniform.matvec(w, x, 0, y, 0);
                    float[] row = new float[dIn];
                    for (int j = 0; j < dOut; j++) {
                        w.dequantizeRow(j, row, 0);
                        double ref = 0, mag = 0;
                        for (int i = 0; i < dIn; i++) {
                            double t = (double) row[i] * x.scales()[i / 32] * x.q()[i];
                            ref += t;
                            mag += Math.abs(t);
                        }
                        assertEquals(ref, y[j], 1e-5 * mag, bits + "-bit sym=" + sym + " row " + j);
                    }
                }
            }
        }
    }

    @Test
    void vectorKernelMatchesSpecAtAwkwardSizes() {
        FormatKernels panama = FormatKernels.panama().orElse(FormatKernels.scalar());
        int[] dIns = {32, 96, 160, 200, 1000, 4096 + 96};
        int[] dOuts = {1, 3, 17};
        try (Arena arena = Arena.ofConfined()) {
            long seed = 10;
            for (int bits : new int[] {4, 8}) {
                for (int dIn : dIns) {
                    for (int gs : new int[] {32, 64, 128, 256, 512, dIn}) {
                        if (gs % 32 != 0 && gs != dIn) continue;
                        for (boolean sym : new boolean[] {true, false}) {
                            int dOut = dOuts[(int) (seed % dOuts.length)];
                            UniformQuantized w = UniformQuantized.rtn(arena, gaussian(dOut * dIn, seed++, 0.02), dOut, dIn, bits, gs, sym);
                            for (int m : new int[] {1, 3}) {
                                Int8Activations x = Int8Activations.quantize(gaussian(m * dIn, seed++, 1), m, dIn);
                                float[] spec = new float[m * dOut];
                                FormatKernels.scalar().uniformMatmulInt8(w, x, spec);
                                float[] got = new float[m * dOut];
                                if (m == 1) panama.uniformMatvecInt8(w, x, got);
                                else panama.uniformMatmulInt8(w, x, got);
                                for (int i = 0; i < got.length; i++) {
                                    double mag = magnitude(w, x, i / dOut, i % dOut);
                                    assertEquals(spec[i], got[i], KERNEL_REL * mag,
                                            bits + "-bit d_in " + dIn + " group " + gs + " sym " + sym + " m " + m + " out " + i);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Σ_i |ŵ_ji · x̂_ri|: the scale of the rounding either order of summation makes. */
    private static double magnitude(UniformQuantized w, Int8Activations x, int r, int j) {
        float[] row = new float[w.dIn()];
        w.dequantizeRow(j, row, 0);
        double s = 0;
        int nb = x.blocksPerRow();
        for (int i = 0; i < w.dIn(); i++) s += Math.abs((double) row[i] * x.scales()[r * nb + i / 32] * x.q()[r * w.dIn() + i]);
        return s + 1e-30;
    }

    @Test
    void unsupportedWeightsAndWrongWidthsAreNamed() {
        try (Arena arena = Arena.ofConfined()) {
            UniformQuantized w3 = UniformQuantized.rtn(arena, gaussian(4 * 64, 4, 0.02), 4, 64, 3, 32, false);
            UniformQuantized g16 = UniformQuantized.rtn(arena, gaussian(4 * 64, 4, 0.02), 4, 64, 4, 16, false);
            Int8Activations x = Int8Activations.quantize(gaussian(64, 5, 1), 1, 64);
            for (FormatKernels k : new FormatKernels[] {FormatKernels.scalar(), FormatKernels.get()}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.uniformMatvecInt8(w3, x, new float[4]));
                assertTrue(e.getMessage().contains("3-bit"), e.getMessage());
                e = assertThrows(IllegalArgumentException.class, () -> k.uniformMatvecInt8(g16, x, new float[4]));
                assertTrue(e.getMessage().contains("group 16"), e.getMessage());
                UniformQuantized w = UniformQuantized.rtn(arena, gaussian(4 * 96, 4, 0.02), 4, 96, 4, 32, true);
                e = assertThrows(IllegalArgumentException.class, () -> k.uniformMatvecInt8(w, x, new float[4]));
                assertTrue(e.getMessage().contains("64 columns"), e.getMessage());
            }
        }
    }
}
