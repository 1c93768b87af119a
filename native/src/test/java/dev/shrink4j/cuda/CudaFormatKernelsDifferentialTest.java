package dev.shrink4j.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.LutQuantized;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The uniform matvec kernel on the stand-in against the scalar format kernel, every width, awkward shapes. */
class CudaFormatKernelsDifferentialTest {
    /** As the dense kernels: only the summation order differs (per element here, per group in the reference). */
    static final double F32_SUM_REL = 2e-5;

    final FormatKernels scalar = FormatKernels.scalar();
    final FormatKernels cuda = new CudaFormatKernels(scalar, Emulator.device(), 0);
    final Random rnd = new Random(1818);

    @Test
    void uniformMatvecEveryWidthSymmetricAndWithZerosRaggedGroups() {
        int[][] shapes = {{1, 1, 1}, {33, 172, 32}, {172, 33, 128}, {4097, 33, 16}, {1, 4097, 128}, {33, 4097, 4097}};
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : shapes) {
                int dOut = s[0], dIn = s[1], gs = s[2];
                for (int bits : new int[] {2, 3, 4, 8}) {
                    for (boolean sym : new boolean[] {true, false}) {
                        int ng = UniformQuantized.groups(dIn, gs);
                        int[] codes = new int[dOut * dIn];
                        for (int i = 0; i < codes.length; i++) codes[i] = rnd.nextInt(1 << bits);
                        float[] scales = new float[dOut * ng];
                        for (int i = 0; i < scales.length; i++) scales[i] = 0.01f + rnd.nextFloat() * 0.1f;
                        int[] zeros = null;
                        if (!sym) {
                            zeros = new int[dOut * ng];
                            for (int i = 0; i < zeros.length; i++) zeros[i] = rnd.nextInt(1 << bits);
                        }
                        UniformQuantized w = UniformQuantized.of(arena, dOut, dIn, bits, gs, codes, scales, zeros, null);
                        float[] x = new float[dIn];
                        for (int i = 0; i < dIn; i++) x[i] = (float) rnd.nextGaussian();
                        float[] ys = new float[dOut], yg = new float[dOut];
                        scalar.uniformMatvec(w, x, ys);
                        cuda.uniformMatvec(w, x, yg);
                        for (int j = 0; j < dOut; j++) {
                            double terms = 0;
                            for (int i = 0; i < dIn; i++) {
                                terms += Math.abs(w.scale(j, i / gs) * (w.code(j, i) - w.zero(j, i / gs)) * x[i]);
                            }
                            double tol = F32_SUM_REL * terms + 1e-30;
                            final int row = j;
                            assertTrue(Math.abs(ys[j] - yg[j]) <= tol, () -> "int" + bits + (sym ? " sym " : " asym ") + dOut + "x" + dIn
                                    + " g" + gs + " row " + row + ": " + ys[row] + " vs " + yg[row]);
                        }
                    }
                }
            }
        }
    }

    @Test
    void lutMatvecEveryWidthPerRowAndPerGroupCodebooks() {
        int[][] shapes = {{1, 1, 1}, {33, 172, 172}, {172, 33, 16}, {4097, 33, 33}, {1, 4097, 128}};
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : shapes) {
                int dOut = s[0], dIn = s[1], gs = s[2];
                for (int bits : new int[] {2, 3, 4, 8}) {
                    int ng = UniformQuantized.groups(dIn, gs), e = 1 << bits;
                    int[] codes = new int[dOut * dIn];
                    for (int i = 0; i < codes.length; i++) codes[i] = rnd.nextInt(e);
                    float[] books = new float[dOut * ng * e];
                    for (int i = 0; i < books.length; i++) books[i] = (float) rnd.nextGaussian() * 0.05f;
                    LutQuantized w = LutQuantized.of(arena, dOut, dIn, bits, gs, codes, books);
                    float[] x = new float[dIn];
                    for (int i = 0; i < dIn; i++) x[i] = (float) rnd.nextGaussian();
                    float[] ys = new float[dOut], yg = new float[dOut], row = new float[dIn];
                    scalar.lutMatvec(w, x, ys);
                    cuda.lutMatvec(w, x, yg);
                    for (int j = 0; j < dOut; j++) {
                        w.dequantizeRow(j, row, 0);
                        double terms = 0;
                        for (int i = 0; i < dIn; i++) terms += Math.abs(row[i] * x[i]);
                        double tol = F32_SUM_REL * terms + 1e-30;
                        final int r = j;
                        assertTrue(Math.abs(ys[j] - yg[j]) <= tol, () -> "lut int" + bits + " " + dOut + "x" + dIn + " g" + gs + " row " + r + ": " + ys[r] + " vs " + yg[r]);
                    }
                }
            }
        }
    }

    @Test
    void nmMatvecTwoFourAndFourEight() {
        // d_in must be a multiple of M: the awkward sizes go to d_out, d_in is 4·43 and 8·43 + ragged runs.
        int[][] shapes = {{1, 8}, {33, 172}, {4097, 8}, {1, 4096}, {172, 344}};
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : shapes) {
                int dOut = s[0], dIn = s[1];
                for (int[] nm : new int[][] {{2, 4}, {4, 8}, {1, 4}}) {
                    int n = nm[0], m = nm[1];
                    if (dIn % m != 0) continue;
                    float[] dense = new float[dOut * dIn];
                    for (int j = 0; j < dOut; j++) {
                        for (int r = 0; r < dIn / m; r++) {
                            // n of the m positions kept, chosen at random; some runs keep fewer (stored zeros)
                            int kept = rnd.nextInt(4) == 0 ? n - 1 : n;
                            java.util.List<Integer> pos = new java.util.ArrayList<>();
                            for (int p = 0; p < m; p++) pos.add(p);
                            java.util.Collections.shuffle(pos, rnd);
                            for (int t = 0; t < kept; t++) dense[j * dIn + r * m + pos.get(t)] = (float) rnd.nextGaussian();
                        }
                    }
                    NmSparse w = NmSparse.fromDense(arena, dense, dOut, dIn, n, m);
                    float[] x = new float[dIn];
                    for (int i = 0; i < dIn; i++) x[i] = (float) rnd.nextGaussian();
                    float[] ys = new float[dOut], yg = new float[dOut];
                    scalar.nmMatvec(w, x, ys);
                    cuda.nmMatvec(w, x, yg);
                    for (int j = 0; j < dOut; j++) {
                        double terms = 0;
                        for (int i = 0; i < dIn; i++) terms += Math.abs(dense[j * dIn + i] * x[i]);
                        double tol = F32_SUM_REL * terms + 1e-30;
                        final int r = j;
                        assertTrue(Math.abs(ys[j] - yg[j]) <= tol, () -> n + ":" + m + " " + dOut + "x" + dIn + " row " + r + ": " + ys[r] + " vs " + yg[r]);
                    }
                }
            }
        }
    }
}
