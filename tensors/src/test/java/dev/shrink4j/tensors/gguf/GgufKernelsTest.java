package dev.shrink4j.tensors.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.GgufBlockWeight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Panama block kernels against the scalar spec ({@code GgufBlocks.dequantize}, then a dot product)
 * and against dequantize-then-double-precision, at awkward shapes: one row, odd row counts, one block
 * per row, block counts that are not multiples of anything, rows not starting on a vector boundary
 * (18- and 20-byte blocks), heap and off-heap segments.
 */
class GgufKernelsTest {
    private static final int[] D_OUT = {1, 3, 7, 33};
    private static final int[] D_IN = {32, 64, 96, 160, 288, 544, 256, 768, 1280};
    /** Relative to Σ|ŵ·x| of the row: float summation in another order. */
    private static final double REL = 2e-6;

    @Test void panamaMatchesScalarAndDoubleAtAwkwardSizes() {
        FormatKernels scalar = FormatKernels.scalar();
        var panama = FormatKernels.panama();
        assertTrue(panama.isPresent(), "Vector API kernels should load under --add-modules jdk.incubator.vector");
        Random r = new Random(11);
        for (GgufType t : new GgufType[] {GgufType.Q4_0, GgufType.Q4_1, GgufType.Q8_0, GgufType.F16, GgufType.Q4_K, GgufType.Q5_K, GgufType.Q6_K}) {
            for (int dOut : D_OUT) {
                for (int dIn : D_IN) {
                    if (dIn % t.blockSize != 0) continue;
                    for (boolean heap : dOut == 3 ? new boolean[] {false, true} : new boolean[] {false}) {
                        try (Arena a = Arena.ofConfined()) {
                            GgufBlockWeight w = weight(t, dOut, dIn, r, a, heap);
                            float[] x = new float[dIn];
                            for (int i = 0; i < dIn; i++) x[i] = (float) r.nextGaussian();
                            float[] ys = new float[dOut];
                            w.matvec(x, ys, scalar);
                            float[] yp = new float[dOut];
                            panama.ifPresent(k -> w.matvec(x, yp, k));
                            float[] row = new float[dIn];
                            for (int j = 0; j < dOut; j++) {
                                w.dequantizeRow(j, row, 0);
                                double exact = 0, mag = 0;
                                for (int i = 0; i < dIn; i++) {
                                    exact += (double) row[i] * x[i];
                                    mag += Math.abs((double) row[i] * x[i]);
                                }
                                String at = t + " (" + dOut + ", " + dIn + ") row " + j + (heap ? " heap" : "");
                                assertEquals(exact, ys[j], REL * mag + 1e-30, "scalar " + at);
                                if (panama.isPresent()) assertEquals(exact, yp[j], REL * mag + 1e-30, "panama " + at);
                            }
                            // matmul: m = 1, 3 rows of X against matvec per row
                            for (int m : new int[] {1, 3}) {
                                float[] xs = new float[m * dIn];
                                for (int i = 0; i < xs.length; i++) xs[i] = (float) r.nextGaussian();
                                for (FormatKernels k : panama.isPresent() ? new FormatKernels[] {scalar, panama.get()} : new FormatKernels[] {scalar}) {
                                    float[] ym = new float[m * dOut];
                                    w.matmul(xs, m, ym, k);
                                    for (int q = 0; q < m; q++) {
                                        float[] xr = java.util.Arrays.copyOfRange(xs, q * dIn, (q + 1) * dIn);
                                        float[] yr = new float[dOut];
                                        w.matvec(xr, yr, scalar);
                                        for (int j = 0; j < dOut; j++) {
                                            // Q6_K's random int8 scales cancel heavily: tolerance also relative to Σ|ŵ·x|
                                            double tol = 1e-4 * (1 + Math.abs(yr[j])) + REL * magnitude(w, j, xr);
                                            assertEquals(yr[j], ym[q * dOut + j], tol, k.name() + " matmul " + t + " m=" + m + " row " + j);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Σ|ŵ_ji·x_i| of row j. */
    private static double magnitude(GgufBlockWeight w, int j, float[] x) {
        float[] row = new float[w.dIn()];
        w.dequantizeRow(j, row, 0);
        double mag = 0;
        for (int i = 0; i < row.length; i++) mag += Math.abs((double) row[i] * x[i]);
        return mag;
    }

    /** Random blocks: quantized Gaussians for writable types, random bytes with small F16 scales (d, dmin) for the K-quants. */
    private static GgufBlockWeight weight(GgufType t, int dOut, int dIn, Random r, Arena a, boolean heap) {
        long n = (long) dOut * dIn;
        MemorySegment s = heap ? MemorySegment.ofArray(new byte[Math.toIntExact(t.bytes(n))]) : a.allocate(t.bytes(n));
        if (t.writable) {
            float[] v = new float[(int) n];
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * (1 + i % 7));
            GgufBlocks.quantize(t, v, 0, v.length, s, 0);
        } else {
            for (long i = 0; i < s.byteSize(); i++) s.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(256));
            for (long b = 0; b < s.byteSize(); b += t.blockBytes) {
                if (t == GgufType.Q6_K) { // d is the last half; the int8 scales may be any byte
                    s.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 208, (short) 0x2000);
                } else {
                    s.set(ValueLayout.JAVA_SHORT_UNALIGNED, b, (short) 0x2000);
                    s.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 2, (short) 0x1800);
                }
            }
        }
        return new GgufBlockWeight(t, dOut, dIn, s);
    }
}
