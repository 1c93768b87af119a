package dev.shrink4j.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.CsrSparse;
import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.LutQuantized;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The format kernels on the stand-in (or, with {@code -Dshrink4j.cuda.test.device=driver}, a GPU) against
 * the scalar format kernels: uniform, LUT and N:M matvec and matmul, act-order, CSR, every width, awkward
 * shapes (1, 33, 172, 4097 in each dimension somewhere).
 */
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

    // ---------------------------------------------------------------- matmul, act-order, CSR

    /** (m, d_out, d_in, group size): m ≥ 2 runs the tiled matmul kernel, m = 1 the matvec. */
    static final int[][] MATMUL_SHAPES = {{1, 1, 1, 1}, {2, 1, 1, 1}, {33, 172, 33, 16}, {172, 33, 172, 32},
        {4097, 1, 33, 16}, {33, 4097, 33, 33}, {33, 33, 4097, 128}, {1, 172, 4097, 4097}};

    @Test
    void uniformMatmulEveryWidthSymmetricAndWithZerosStaticGroupsAndActOrder() {
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : MATMUL_SHAPES) {
                int m = s[0], dOut = s[1], dIn = s[2], gs = s[3];
                for (int bits : new int[] {2, 3, 4, 8}) {
                    for (boolean sym : new boolean[] {true, false}) {
                        for (boolean actOrder : new boolean[] {false, true}) {
                            UniformQuantized w = uniform(arena, dOut, dIn, bits, gs, sym, actOrder);
                            float[] x = gaussians(m * dIn);
                            float[] ys = new float[m * dOut], yg = new float[m * dOut];
                            scalar.uniformMatmul(w, x, m, ys);
                            cuda.uniformMatmul(w, x, m, yg);
                            assertClose("uniform matmul int" + bits + (sym ? " sym" : " asym") + (actOrder ? " act-order" : "")
                                    + " g" + gs, w, x, m, null, ys, yg);
                        }
                    }
                }
            }
        }
    }

    @Test
    void uniformMatvecActOrder() {
        int[][] shapes = {{1, 1, 1}, {33, 172, 32}, {4097, 33, 16}, {33, 4097, 128}};
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : shapes) {
                int dOut = s[0], dIn = s[1], gs = s[2];
                for (int bits : new int[] {2, 3, 4, 8}) {
                    for (boolean sym : new boolean[] {true, false}) {
                        UniformQuantized w = uniform(arena, dOut, dIn, bits, gs, sym, true);
                        float[] x = gaussians(dIn);
                        float[] ys = new float[dOut], yg = new float[dOut];
                        scalar.uniformMatvec(w, x, ys);
                        cuda.uniformMatvec(w, x, yg);
                        assertClose("uniform matvec act-order int" + bits + (sym ? " sym" : " asym") + " g" + gs, w, x, 1, null, ys, yg);
                    }
                }
            }
        }
    }

    @Test
    void lutMatmulEveryWidthPerRowAndPerGroupCodebooks() {
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : MATMUL_SHAPES) {
                int m = s[0], dOut = s[1], dIn = s[2];
                for (int gs : new int[] {s[3], dIn}) {   // per group, and one codebook per row
                    for (int bits : new int[] {2, 3, 4, 8}) {
                        int ng = UniformQuantized.groups(dIn, gs), e = 1 << bits;
                        int[] codes = new int[dOut * dIn];
                        for (int i = 0; i < codes.length; i++) codes[i] = rnd.nextInt(e);
                        float[] books = new float[dOut * ng * e];
                        for (int i = 0; i < books.length; i++) books[i] = (float) rnd.nextGaussian() * 0.05f;
                        LutQuantized w = LutQuantized.of(arena, dOut, dIn, bits, gs, codes, books);
                        float[] x = gaussians(m * dIn);
                        float[] ys = new float[m * dOut], yg = new float[m * dOut];
                        scalar.lutMatmul(w, x, m, ys);
                        cuda.lutMatmul(w, x, m, yg);
                        assertClose("lut matmul int" + bits + " g" + gs, w, x, m, null, ys, yg);
                    }
                }
            }
        }
    }

    @Test
    void nmMatmulTwoFourFourEightOneFour() {
        // (m, d_out, d_in): d_in a multiple of M (8 covers 4 and 8), the awkward sizes in m and d_out.
        int[][] shapes = {{2, 1, 8}, {33, 172, 344}, {4097, 1, 8}, {172, 33, 4096}, {33, 4097, 8}};
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : shapes) {
                int rows = s[0], dOut = s[1], dIn = s[2];
                for (int[] nm : new int[][] {{2, 4}, {4, 8}, {1, 4}}) {
                    NmSparse w = NmSparse.fromDense(arena, nmDense(dOut, dIn, nm[0], nm[1]), dOut, dIn, nm[0], nm[1]);
                    float[] x = gaussians(rows * dIn);
                    float[] ys = new float[rows * dOut], yg = new float[rows * dOut];
                    scalar.nmMatmul(w, x, rows, ys);
                    cuda.nmMatmul(w, x, rows, yg);
                    assertClose(nm[0] + ":" + nm[1] + " matmul", w, x, rows, null, ys, yg);
                }
            }
        }
    }

    @Test
    void csrMatvecAndMatmulAddF16Bf16F32ValuesEmptyRows() {
        // (m, d_out, d_in, density ‰): m = 1 is csrMatvecAdd; rows without a non-zero occur at every density.
        int[][] shapes = {{1, 1, 1, 1000}, {1, 33, 172, 50}, {1, 4097, 33, 20}, {1, 172, 4097, 5},
            {2, 1, 1, 1000}, {33, 172, 33, 50}, {172, 33, 4097, 5}, {4097, 1, 33, 100}};
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : shapes) {
                int m = s[0], dOut = s[1], dIn = s[2];
                for (DType vt : new DType[] {DType.F16, DType.BF16, DType.F32}) {
                    float[] dense = new float[dOut * dIn];
                    for (int i = 0; i < dense.length; i++) {
                        if (rnd.nextInt(1000) < s[3]) dense[i] = (float) rnd.nextGaussian();
                    }
                    CsrSparse w = CsrSparse.fromDense(arena, dense, dOut, dIn, vt);
                    float[] x = gaussians(m * dIn);
                    float[] y0 = gaussians(m * dOut);
                    float[] ys = y0.clone(), yg = y0.clone();
                    if (m == 1) {
                        scalar.csrMatvecAdd(w, x, ys);
                        cuda.csrMatvecAdd(w, x, yg);
                    } else {
                        scalar.csrMatmulAdd(w, x, m, ys);
                        cuda.csrMatmulAdd(w, x, m, yg);
                    }
                    assertClose("csr " + (m == 1 ? "matvec" : "matmul") + " add " + vt + " nnz " + w.nnz(), w, x, m, y0, ys, yg);
                }
            }
        }
    }

    @Test
    void denseAndSparseAndNmWeightsRouteTheirMatmulsThroughTheFormatKernels() {
        // DenseAndSparse.matmul = base matmul + csrMatmulAdd, NmSparse.matmul = nmMatmul: both on the device here.
        try (Arena arena = Arena.ofConfined()) {
            int m = 33, dOut = 172, dIn = 64;
            float[] outliers = new float[dOut * dIn];
            for (int i = 0; i < outliers.length; i++) if (rnd.nextInt(100) == 0) outliers[i] = (float) rnd.nextGaussian();
            CompressedWeight ds = new dev.shrink4j.tensors.formats.DenseAndSparse(uniform(arena, dOut, dIn, 3, 32, false, true),
                    CsrSparse.fromDense(arena, outliers, dOut, dIn, DType.F16));
            CompressedWeight nm = NmSparse.fromDense(arena, nmDense(dOut, dIn, 2, 4), dOut, dIn, 2, 4);
            for (CompressedWeight w : new CompressedWeight[] {ds, nm}) {
                float[] x = gaussians(m * dIn), ys = new float[m * dOut], yg = new float[m * dOut];
                w.matmul(x, m, ys, scalar);
                w.matmul(x, m, yg, cuda);
                assertClose(w.format() + " matmul", w, x, m, null, ys, yg);
            }
        }
    }

    @Test
    void readOnlyFormatWeightsStayResidentAcrossMatvecAndMatmul() {
        try (Arena arena = Arena.ofConfined()) {
            CudaDevice dev = Emulator.device();
            UniformQuantized w = DeviceCheck.readOnly(uniform(arena, 33, 172, 4, 32, false, true));
            long before = dev.residentBytes();
            float[] x = gaussians(5 * 172), y1 = new float[5 * 33], y2 = new float[5 * 33], ys = new float[5 * 33];
            cuda.uniformMatmul(w, x, 5, y1);
            long after = dev.residentBytes();
            cuda.uniformMatmul(w, x, 5, y2);
            cuda.uniformMatvec(w, java.util.Arrays.copyOf(x, 172), new float[33]);
            // codes, F32 scales, byte zero points and g_idx, uploaded by the first call only
            long expected = w.qweight().byteSize() + 33L * w.nGroups() * 4 + 33L * w.nGroups() + 172L * 4;
            org.junit.jupiter.api.Assertions.assertEquals(expected, after - before);
            org.junit.jupiter.api.Assertions.assertEquals(after, dev.residentBytes());
            org.junit.jupiter.api.Assertions.assertArrayEquals(y1, y2);
            scalar.uniformMatmul(w, x, 5, ys);
            assertClose("read-only uniform matmul", w, x, 5, null, ys, y1);
        }
    }

    /** Random codes, scales and zero points; with actOrder, columns assigned to groups by a random permutation (as GPTQ's act-order leaves them). */
    UniformQuantized uniform(Arena arena, int dOut, int dIn, int bits, int gs, boolean sym, boolean actOrder) {
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
        int[] gIdx = null;
        if (actOrder) {
            java.util.List<Integer> perm = new java.util.ArrayList<>();
            for (int i = 0; i < dIn; i++) perm.add(i);
            java.util.Collections.shuffle(perm, rnd);
            gIdx = new int[dIn];
            for (int i = 0; i < dIn; i++) gIdx[i] = perm.get(i) / gs;
        }
        return UniformQuantized.of(arena, dOut, dIn, bits, gs, codes, scales, zeros, gIdx);
    }

    /** A dense (d_out, d_in) matrix keeping n of every m in each row; a quarter of the runs keep one fewer (stored zeros). */
    float[] nmDense(int dOut, int dIn, int n, int m) {
        float[] dense = new float[dOut * dIn];
        java.util.List<Integer> pos = new java.util.ArrayList<>();
        for (int p = 0; p < m; p++) pos.add(p);
        for (int j = 0; j < dOut; j++) {
            for (int r = 0; r < dIn / m; r++) {
                int kept = rnd.nextInt(4) == 0 ? n - 1 : n;
                java.util.Collections.shuffle(pos, rnd);
                for (int t = 0; t < kept; t++) dense[j * dIn + r * m + pos.get(t)] = (float) rnd.nextGaussian();
            }
        }
        return dense;
    }

    float[] gaussians(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    /**
     * Every output of Y (m, d_out) within {@link #F32_SUM_REL} of Σ_i |ŵ(j, i)·x(r, i)| (+ |y0(r, j)| when
     * accumulating into y0) of the reference: the two differ only in the order of the sum.
     */
    static void assertClose(String what, CompressedWeight w, float[] x, int m, float[] y0, float[] ys, float[] yg) {
        int dOut = w.dOut(), dIn = w.dIn();
        float[] row = new float[dIn];
        for (int j = 0; j < dOut; j++) {
            w.dequantizeRow(j, row, 0);
            for (int r = 0; r < m; r++) {
                double terms = y0 == null ? 0 : Math.abs(y0[r * dOut + j]);
                for (int i = 0; i < dIn; i++) terms += Math.abs(row[i] * x[r * dIn + i]);
                double tol = F32_SUM_REL * terms + 1e-30;
                int o = r * dOut + j;
                final int jj = j, rr = r;
                assertTrue(Math.abs(ys[o] - yg[o]) <= tol, () -> what + " " + m + "x" + dIn + " · (" + dOut + "x" + dIn + ")ᵀ at ("
                        + rr + ", " + jj + "): " + ys[o] + " vs " + yg[o]);
            }
        }
    }
}
