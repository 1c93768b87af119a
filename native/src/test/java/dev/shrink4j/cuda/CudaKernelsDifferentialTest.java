package dev.shrink4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.kernels.Kernels;
import dev.shrink4j.tensors.kernels.KernelsProvider;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The CUDA kernels, run on the CPU stand-in through the real FFM path, against the scalar reference
 * at awkward sizes (1, 33, 172, 4097: one element, two tiles and a bit, many tiles and a ragged
 * edge, a long dimension). Only the summation order differs, so outputs are compared relative to
 * Σ|terms| with the tolerance the Panama kernels meet.
 */
class CudaKernelsDifferentialTest {
    /** As KernelsDifferentialTest.F32_SUM_REL: a reordered float sum of k terms moves a few ulps of Σ|terms|. */
    static final double F32_SUM_REL = 2e-5;
    /** (m, n, k) triples over the awkward sizes; a 4097 in one dimension at a time keeps the emulation quick. */
    static final int[][] SHAPES = {
            {1, 1, 1}, {1, 33, 172}, {33, 1, 4097}, {33, 172, 33}, {172, 33, 172}, {4097, 33, 1}, {1, 4097, 33}, {172, 172, 1}};

    final Kernels scalar = KernelsProvider.scalar();
    final Kernels cuda = new CudaKernels(scalar, Emulator.device(), 0);
    final Random rnd = new Random(18);

    float[] randoms(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    /** Σ_p |A(i, p)·B(p, j)| per output, + |C| when accumulating, for the tolerance. */
    static void assertClose(float[] expected, float[] actual, float[] absTerms, String what) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            double tol = F32_SUM_REL * absTerms[i] + 1e-30;
            final int at = i;
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol,
                    () -> what + " [" + at + "]: expected " + expected[at] + " got " + actual[at] + " (tol " + tol + ")");
        }
    }

    @Test
    void gemmsOfHeapArraysWithOffsetsAndLeadingDimensions() {
        for (int[] s : SHAPES) {
            int m = s[0], n = s[1], k = s[2];
            for (boolean acc : new boolean[] {false, true}) {
                // A·Bᵀ: A (m, k) ld k+2 at 3; B (n, k) ld k+1 at 1; C (m, n) ld n+3 at 2
                int lda = k + 2, ldb = k + 1, ldc = n + 3;
                float[] a = randoms(3 + m * lda), b = randoms(1 + n * ldb), c0 = randoms(2 + m * ldc);
                float[] cs = c0.clone(), cg = c0.clone();
                scalar.gemmABt(m, n, k, a, 3, lda, b, 1, ldb, cs, 2, ldc, acc);
                cuda.gemmABt(m, n, k, a, 3, lda, b, 1, ldb, cg, 2, ldc, acc);
                assertClose(cs, cg, terms(m, n, k, a, 3, lda, 1, b, 1, 1, ldb, c0, 2, ldc, acc), "gemmABt " + m + "x" + n + "x" + k + " acc=" + acc);

                // A·B: B (k, n) ld n+1
                ldb = n + 1;
                b = randoms(1 + k * ldb);
                cs = c0.clone();
                cg = c0.clone();
                scalar.gemmAB(m, n, k, a, 3, lda, b, 1, ldb, cs, 2, ldc, acc);
                cuda.gemmAB(m, n, k, a, 3, lda, b, 1, ldb, cg, 2, ldc, acc);
                assertClose(cs, cg, terms(m, n, k, a, 3, lda, 1, b, 1, ldb, 1, c0, 2, ldc, acc), "gemmAB " + m + "x" + n + "x" + k + " acc=" + acc);

                // Aᵀ·B: A (k, m) ld m+2
                int ldat = m + 2;
                float[] at = randoms(3 + k * ldat);
                cs = c0.clone();
                cg = c0.clone();
                scalar.gemmAtB(m, n, k, at, 3, ldat, b, 1, ldb, cs, 2, ldc, acc);
                cuda.gemmAtB(m, n, k, at, 3, ldat, b, 1, ldb, cg, 2, ldc, acc);
                assertClose(cs, cg, terms(m, n, k, at, 3, 1, ldat, b, 1, ldb, 1, c0, 2, ldc, acc), "gemmAtB " + m + "x" + n + "x" + k + " acc=" + acc);
            }
        }
    }

    @Test
    void gemmsOfStoredWeightsInEveryDtype() {
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : SHAPES) {
                int m = s[0], n = s[1], k = s[2];
                for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                    for (boolean acc : new boolean[] {false, true}) {
                        int lda = k + 1, ldc = n + 2;
                        float[] a = randoms(2 + m * lda), c0 = randoms(1 + m * ldc);
                        // X·Wᵀ with W (n, k)
                        Tensor w = stored(arena, dt, n, k);
                        float[] wf = widened(w);
                        float[] cs = c0.clone(), cg = c0.clone();
                        scalar.gemmABt(m, a, 2, lda, w, cs, 1, ldc, acc);
                        cuda.gemmABt(m, a, 2, lda, w, cg, 1, ldc, acc);
                        assertClose(cs, cg, terms(m, n, k, a, 2, lda, 1, wf, 0, 1, k, c0, 1, ldc, acc), "gemmABt(W " + dt + ") " + m + "x" + n + "x" + k);
                        // X·W with W (k, n)
                        Tensor w2 = stored(arena, dt, k, n);
                        float[] wf2 = widened(w2);
                        cs = c0.clone();
                        cg = c0.clone();
                        scalar.gemmAB(m, a, 2, lda, w2, cs, 1, ldc, acc);
                        cuda.gemmAB(m, a, 2, lda, w2, cg, 1, ldc, acc);
                        assertClose(cs, cg, terms(m, n, k, a, 2, lda, 1, wf2, 0, n, 1, c0, 1, ldc, acc), "gemmAB(W " + dt + ") " + m + "x" + n + "x" + k);
                    }
                }
            }
        }
    }

    @Test
    void syrkPlainAndRowWeightedTouchesOnlyTheUpperTriangle() {
        int[][] shapes = {{1, 1}, {33, 172}, {4097, 33}, {172, 33}, {1, 172}};
        for (int[] s : shapes) {
            int rows = s[0], d = s[1];
            int ldx = d + 3, ldh = d + 1;
            float[] x = randoms(2 + rows * ldx), h0 = randoms(4 + d * ldh);
            float[] weights = randoms(1 + rows);
            for (int i = 0; i < weights.length; i++) weights[i] = Math.abs(weights[i]);
            for (float[] wt : new float[][] {null, weights}) {
                float[] hs = h0.clone(), hg = h0.clone();
                scalar.syrkUpper(rows, d, x, 2, ldx, wt, 1, hs, 4, ldh);
                cuda.syrkUpper(rows, d, x, 2, ldx, wt, 1, hg, 4, ldh);
                float[] t = new float[h0.length];
                for (int i = 0; i < h0.length; i++) t[i] = Math.abs(h0[i]);
                for (int i = 0; i < d; i++) {
                    for (int j = i; j < d; j++) {
                        double sum = 0;
                        for (int r = 0; r < rows; r++) {
                            sum += Math.abs((wt == null ? 1 : wt[1 + r]) * x[2 + r * ldx + i] * x[2 + r * ldx + j]);
                        }
                        t[4 + i * ldh + j] += (float) sum;
                    }
                }
                assertClose(hs, hg, t, "syrkUpper " + rows + "x" + d + (wt == null ? "" : " weighted"));
                for (int i = 1; i < d; i++) {
                    for (int j = 0; j < i; j++) {
                        assertEquals(h0[4 + i * ldh + j], hg[4 + i * ldh + j], "below the diagonal untouched at " + i + "," + j);
                    }
                }
            }
        }
    }

    @Test
    void readOnlyWeightsStayResidentAndGiveTheSameResult() {
        try (Arena arena = Arena.ofShared()) {
            int m = 33, n = 172, k = 33;
            Tensor writable = stored(arena, DType.BF16, n, k);
            Tensor mapped = Tensor.wrap(DType.BF16, writable.shape(), writable.segment().asReadOnly());
            float[] a = randoms(m * k), c1 = new float[m * n], c2 = new float[m * n], cs = new float[m * n];
            CudaDevice dev = Emulator.device();
            long before = dev.residentBytes();
            cuda.gemmABt(m, a, 0, k, mapped, c1, 0, n, false);
            long after = dev.residentBytes();
            assertEquals(before + writable.byteSize(), after, "uploaded once");
            cuda.gemmABt(m, a, 0, k, mapped, c2, 0, n, false);
            assertEquals(after, dev.residentBytes(), "second call reuses the device copy");
            assertEquals(java.util.Arrays.toString(c1), java.util.Arrays.toString(c2));
            scalar.gemmABt(m, a, 0, k, writable, cs, 0, n, false);
            assertClose(cs, c1, terms(m, n, k, a, 0, k, 1, widened(writable), 0, 1, k, cs, 0, n, false), "resident BF16 weight");
        }
    }

    @Test
    void smallProductsStayOnTheCpuBelowTheThreshold() {
        // With a threshold above the product the scalar fallback runs: the result is bit for bit the reference.
        Kernels gated = new CudaKernels(scalar, Emulator.device(), 1L << 40);
        float[] a = randoms(33 * 17), b = randoms(5 * 17), cs = new float[33 * 5], cg = new float[33 * 5];
        scalar.gemmABt(33, 5, 17, a, b, cs);
        gated.gemmABt(33, 5, 17, a, b, cg);
        assertEquals(java.util.Arrays.toString(cs), java.util.Arrays.toString(cg));
        assertEquals("cuda", gated.name());
    }

    Tensor stored(Arena arena, DType dt, int rows, int cols) {
        float[] v = randoms(rows * cols);
        Tensor t = Tensor.allocate(arena, dt, Shape.of(rows, cols));
        for (int i = 0; i < v.length; i++) t.setFloat(i, v[i]);
        return t;
    }

    static float[] widened(Tensor t) {
        float[] f = new float[(int) t.numel()];
        for (int i = 0; i < f.length; i++) f[i] = t.getFloat(i);
        return f;
    }

    /** Σ|A(i,p)·B(p,j)| (+|C|) per element of C's span, A(i,p) = a[ao + i·sai + p·sap], B(p,j) = b[bo + p·sbp + j·sbj]. */
    static float[] terms(int m, int n, int k, float[] a, int ao, int sai, int sap, float[] b, int bo, int sbp, int sbj,
                         float[] c0, int co, int ldc, boolean acc) {
        float[] t = new float[c0.length];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = acc ? Math.abs(c0[co + i * ldc + j]) : 0;
                for (int p = 0; p < k; p++) s += Math.abs(a[ao + i * sai + p * sap] * b[bo + p * sbp + j * sbj]);
                t[co + i * ldc + j] = (float) s;
            }
        }
        return t;
    }
}
