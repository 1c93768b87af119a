package dev.shrink4j.tensors.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Floats;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Panama against the scalar reference at awkward sizes (odd on purpose: every vector loop's tail and
 * every GEMM edge tile is exercised). Float results may differ only by summation order, so they are
 * compared relative to Σ|terms| of each output.
 */
class KernelsDifferentialTest {
    /** Reordering a float sum of k terms moves it by a few ulps of Σ|terms|; √k·ε with margin. */
    static final double F32_SUM_REL = 2e-5;
    /** Same for fp64 sums. */
    static final double F64_SUM_REL = 1e-13;
    /** 1-D sizes: below, at and above multiples of 4, 8, 16 and 64 lanes. */
    static final int[] SIZES_1D = {1, 3, 7, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 255, 257, 1023, 1025, 4095, 4098};
    /** GEMM sizes: below, at and above the 8 × 32 micro-tile and the 128/256/512 cache blocks. */
    static final int[] SIZES_GEMM = {1, 3, 7, 8, 9, 17, 31, 33, 65, 129};

    final Kernels scalar = KernelsProvider.scalar();
    final Kernels panama = KernelsProvider.panama();
    final Random rnd = new Random(42);

    float[] randoms(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    double[] drandoms(int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = rnd.nextGaussian();
        return x;
    }

    static void assertClose(float expected, float actual, double absTerms, String what) {
        double tol = F32_SUM_REL * absTerms + 1e-30;
        assertTrue(Math.abs(expected - actual) <= tol, () -> what + ": expected " + expected + " got " + actual + " (tol " + tol + ")");
    }

    @Test
    void level1() {
        for (int n : SIZES_1D) {
            float[] x = randoms(n + 3), y = randoms(n + 5);
            double terms = 0;
            for (int i = 0; i < n; i++) terms += Math.abs(x[3 + i] * y[5 + i]);
            assertClose(scalar.dot(n, x, 3, y, 5), panama.dot(n, x, 3, y, 5), terms, "dot n=" + n);

            float[] ys = y.clone(), yp = y.clone();
            scalar.axpy(n, 0.37f, x, 3, ys, 5);
            panama.axpy(n, 0.37f, x, 3, yp, 5);
            for (int i = 0; i < yp.length; i++) {
                // A fused multiply-add versus multiply then add: one rounding of the product apart.
                double yTerms = Math.abs(y[i]) + (i >= 5 && i < 5 + n ? Math.abs(0.37f * x[i - 2]) : 0);
                assertClose(ys[i], yp[i], yTerms, "axpy n=" + n + " i=" + i);
            }
            float[] xs = x.clone(), xp = x.clone();
            scalar.scale(n, -1.75f, xs, 3);
            panama.scale(n, -1.75f, xp, 3);
            assertEquals(java.util.Arrays.toString(xs), java.util.Arrays.toString(xp), "scale n=" + n);
        }
    }

    @Test
    void sumOverEveryDtype() {
        try (Arena arena = Arena.ofConfined()) {
            // The last size is above PanamaKernels.PARALLEL_STREAM_ELEMENTS: summed on all threads.
            for (int n : new int[] {1, 17, 1025, 16384 * 3 + 5, (3 << 19) + 5}) {
                float[] v = randoms(n);
                double terms = 0;
                for (float f : v) terms += Math.abs(f);
                for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                    Tensor t = Tensor.ofFloats(arena, Shape.of(n), v).convert(arena, dt);
                    double s = scalar.sum(t), p = panama.sum(t);
                    assertTrue(Math.abs(s - p) <= F32_SUM_REL * terms, "sum " + dt + " n=" + n + ": " + s + " vs " + p);
                }
            }
        }
    }

    @Test
    void matvecStoredAndHeap() {
        // Shared memory runs threaded; a confined arena's memory stays on the calling thread.
        for (Arena arena : new Arena[] {Arena.ofShared(), Arena.ofConfined()}) try (arena) {
            // The last shape is above PanamaKernels.PARALLEL_STREAM_ELEMENTS: rows split across threads.
            int[][] shapes = {{1, 1}, {3, 7}, {5, 17}, {13, 33}, {31, 129}, {67, 1025}, {9, 4098}, {1203, 1311}};
            for (int[] sh : shapes) {
                int dOut = sh[0], dIn = sh[1];
                float[] w = randoms(dOut * dIn), x = randoms(dIn + 2);
                for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                    Tensor wt = Tensor.ofFloats(arena, Shape.of(dOut, dIn), w).convert(arena, dt);
                    float[] wr = wt.toFloatArray();
                    for (boolean acc : new boolean[] {false, true}) {
                        float[] ys = randoms(dOut + 1), yp = ys.clone();
                        scalar.matvec(wt, x, 2, ys, 1, acc);
                        panama.matvec(wt, x, 2, yp, 1, acc);
                        assertEquals(ys[0], yp[0], "matvec must not write before yOff");
                        for (int i = 0; i < dOut; i++) {
                            double terms = acc ? Math.abs(ys[1 + i]) : 0;
                            for (int j = 0; j < dIn; j++) terms += Math.abs(wr[i * dIn + j] * x[2 + j]);
                            assertClose(ys[1 + i], yp[1 + i], terms, "matvec " + dt + " " + dOut + "x" + dIn + " row " + i);
                        }
                    }
                }
                // Heap matrix with a leading dimension larger than dIn.
                int ldw = dIn + 3;
                float[] wh = randoms(dOut * ldw);
                float[] ys = new float[dOut], yp = new float[dOut];
                scalar.matvec(dOut, dIn, wh, 0, ldw, x, 2, ys, 0, false);
                panama.matvec(dOut, dIn, wh, 0, ldw, x, 2, yp, 0, false);
                for (int i = 0; i < dOut; i++) {
                    double terms = 0;
                    for (int j = 0; j < dIn; j++) terms += Math.abs(wh[i * ldw + j] * x[2 + j]);
                    assertClose(ys[i], yp[i], terms, "heap matvec row " + i);
                }
            }
        }
    }

    /** Which GEMM: 0 = A·Bᵀ, 1 = A·B, 2 = Aᵀ·B. */
    void gemm(Kernels k, int op, int m, int n, int kk, float[] a, int lda, float[] b, int ldb, float[] c, int ldc, boolean acc) {
        switch (op) {
            case 0 -> k.gemmABt(m, n, kk, a, 1, lda, b, 2, ldb, c, 3, ldc, acc);
            case 1 -> k.gemmAB(m, n, kk, a, 1, lda, b, 2, ldb, c, 3, ldc, acc);
            default -> k.gemmAtB(m, n, kk, a, 1, lda, b, 2, ldb, c, 3, ldc, acc);
        }
    }

    @Test
    void gemmF32AllLayouts() {
        for (int op = 0; op < 3; op++) {
            for (int m : SIZES_GEMM) {
                for (int n : new int[] {1, 33, 97}) {
                    for (int kk : new int[] {1, 31, 300}) {
                        if ((long) m * n * kk > 2_000_000) continue;
                        checkGemm(op, m, n, kk, rnd.nextBoolean());
                    }
                }
            }
            // Past the 128-row, 256-deep and 512-column cache blocks, and big enough to run threaded.
            checkGemm(op, 150, 530, 270, true);
            checkGemm(op, 137, 41, 520, false);
        }
    }

    private void checkGemm(int op, int m, int n, int kk, boolean acc) {
        int lda = (op == 2 ? m : kk) + 2, ldb = (op == 0 ? kk : n) + 1, ldc = n + 4;
        int aRows = op == 2 ? kk : m, bRows = op == 0 ? n : kk;
        float[] a = randoms(1 + aRows * lda), b = randoms(2 + bRows * ldb), c0 = randoms(3 + m * ldc);
        float[] cs = c0.clone(), cp = c0.clone();
        gemm(scalar, op, m, n, kk, a, lda, b, ldb, cs, ldc, acc);
        gemm(panama, op, m, n, kk, a, lda, b, ldb, cp, ldc, acc);
        for (int i = 0; i < cs.length; i++) {
            int r = (i - 3) / ldc, col = (i - 3) % ldc;
            if (i < 3 || col >= n) {
                assertEquals(c0[i], cp[i], "gemm op " + op + " wrote outside C at " + i);
                continue;
            }
            double terms = acc ? Math.abs(c0[i]) : 0;
            for (int p = 0; p < kk; p++) {
                float av = op == 2 ? a[1 + p * lda + r] : a[1 + r * lda + p];
                float bv = op == 0 ? b[2 + col * ldb + p] : b[2 + p * ldb + col];
                terms += Math.abs(av * bv);
            }
            assertClose(cs[i], cp[i], terms, "gemm op " + op + " " + m + "x" + n + "x" + kk + " acc " + acc + " at (" + r + "," + col + ")");
        }
    }

    @Test
    void gemmWithStoredWeights() {
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : new int[][] {{1, 1, 1}, {1, 70, 129}, {7, 33, 17}, {9, 65, 31}, {33, 100, 257}, {70, 530, 60}}) {
                int m = s[0], n = s[1], kk = s[2];
                float[] a = randoms(m * kk);
                float[] wv = randoms(n * kk);
                for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                    // Forward: C = A·Wᵀ with W (n, k).
                    Tensor w = Tensor.ofFloats(arena, Shape.of(n, kk), wv).convert(arena, dt);
                    float[] cs = new float[m * n], cp = new float[m * n];
                    scalar.gemmABt(m, a, 0, kk, w, cs, 0, n, false);
                    panama.gemmABt(m, a, 0, kk, w, cp, 0, n, false);
                    float[] wr = w.toFloatArray();
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double terms = 0;
                            for (int p = 0; p < kk; p++) terms += Math.abs(a[i * kk + p] * wr[j * kk + p]);
                            assertClose(cs[i * n + j], cp[i * n + j], terms, "A·Wᵀ " + dt + " (" + i + "," + j + ")");
                        }
                    }
                    // Backward-style: C = A·W with W (k, n).
                    Tensor w2 = Tensor.ofFloats(arena, Shape.of(kk, n), wv).convert(arena, dt);
                    float[] ds = randoms(m * n), dp = ds.clone(), d0 = ds.clone();
                    scalar.gemmAB(m, a, 0, kk, w2, ds, 0, n, true);
                    panama.gemmAB(m, a, 0, kk, w2, dp, 0, n, true);
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double terms = Math.abs(d0[i * n + j]);
                            for (int p = 0; p < kk; p++) terms += Math.abs(a[i * kk + p] * wr[p * n + j]);
                            assertClose(ds[i * n + j], dp[i * n + j], terms, "A·W " + dt + " (" + i + "," + j + ")");
                        }
                    }
                }
            }
        }
    }

    @Test
    void syrkUpperOnlyTouchesTheUpperTriangle() {
        for (int[] s : new int[][] {{1, 1}, {5, 3}, {17, 9}, {33, 31}, {300, 65}, {40, 200}}) {
            int rows = s[0], d = s[1], ldx = d + 1, ldh = d + 2;
            float[] x = randoms(rows * ldx);
            float[] wts = new float[rows + 1];
            for (int t = 0; t < wts.length; t++) wts[t] = rnd.nextFloat();
            for (float[] weights : new float[][] {null, wts}) {
                float[] h0 = randoms(d * ldh);
                float[] hs = h0.clone(), hp = h0.clone();
                scalar.syrkUpper(rows, d, x, 0, ldx, weights, 1, hs, 0, ldh);
                panama.syrkUpper(rows, d, x, 0, ldx, weights, 1, hp, 0, ldh);
                for (int i = 0; i < d; i++) {
                    for (int j = 0; j < ldh; j++) {
                        int o = i * ldh + j;
                        if (j < i || j >= d) {
                            assertEquals(h0[o], hp[o], "syrk wrote below the diagonal or past d at (" + i + "," + j + ")");
                            continue;
                        }
                        double terms = Math.abs(h0[o]);
                        for (int t = 0; t < rows; t++) {
                            terms += Math.abs(x[t * ldx + i] * x[t * ldx + j] * (weights == null ? 1 : weights[1 + t]));
                        }
                        assertClose(hs[o], hp[o], terms, "syrk " + rows + "x" + d + " weighted " + (weights != null) + " (" + i + "," + j + ")");
                    }
                }
            }
        }
    }

    @Test
    void dgemmAllLayoutsWithAlphaBeta() {
        double[][] ab = {{1, 0}, {-1, 1}, {0.5, -2}};
        for (int op = 0; op < 3; op++) {
            for (int[] s : new int[][] {{1, 1, 1}, {7, 9, 3}, {9, 17, 33}, {33, 15, 65}, {65, 70, 300}, {100, 30, 20}}) {
                int m = s[0], n = s[1], kk = s[2];
                for (double[] alphaBeta : ab) {
                    int lda = (op == 2 ? m : kk) + 1, ldb = (op == 0 ? kk : n) + 2, ldc = n + 3;
                    double[] a = drandoms((op == 2 ? kk : m) * lda), b = drandoms((op == 0 ? n : kk) * ldb);
                    double[] c0 = drandoms(m * ldc);
                    if (alphaBeta[1] == 0) c0[0] = Double.NaN; // beta = 0 must ignore old contents
                    double[] cs = c0.clone(), cp = c0.clone();
                    dgemm(scalar, op, m, n, kk, alphaBeta[0], a, lda, b, ldb, alphaBeta[1], cs, ldc);
                    dgemm(panama, op, m, n, kk, alphaBeta[0], a, lda, b, ldb, alphaBeta[1], cp, ldc);
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < ldc; j++) {
                            int o = i * ldc + j;
                            if (j >= n) {
                                assertEquals(c0[o], cp[o], "dgemm wrote past n");
                                continue;
                            }
                            double terms = Math.abs(alphaBeta[1] * (Double.isNaN(c0[o]) ? 0 : c0[o]));
                            for (int p = 0; p < kk; p++) {
                                double av = op == 2 ? a[p * lda + i] : a[i * lda + p];
                                double bv = op == 0 ? b[j * ldb + p] : b[p * ldb + j];
                                terms += Math.abs(alphaBeta[0] * av * bv);
                            }
                            assertEquals(cs[o], cp[o], F64_SUM_REL * terms + 1e-300, "dgemm op " + op + " " + m + "x" + n + "x" + kk + " (" + i + "," + j + ")");
                        }
                    }
                }
            }
        }
    }

    private static void dgemm(Kernels k, int op, int m, int n, int kk, double alpha, double[] a, int lda, double[] b, int ldb, double beta, double[] c, int ldc) {
        switch (op) {
            case 0 -> k.dgemmABt(m, n, kk, alpha, a, 0, lda, b, 0, ldb, beta, c, 0, ldc);
            case 1 -> k.dgemmAB(m, n, kk, alpha, a, 0, lda, b, 0, ldb, beta, c, 0, ldc);
            default -> k.dgemmAtB(m, n, kk, alpha, a, 0, lda, b, 0, ldb, beta, c, 0, ldc);
        }
    }

    @Test
    void conversionsAreBitExact() {
        try (Arena arena = Arena.ofConfined()) {
            float[] special = {0f, -0f, 1f, -1f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NaN, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, 65504f, 65520f, 6.0e-8f, 1.00390625f, 1.01171875f, Float.intBitsToFloat(0x7F800001)};
            for (int n : SIZES_1D) {
                float[] v = randoms(n);
                for (int i = 0; i < Math.min(n, special.length); i++) v[(i * 7) % n] = special[i];
                for (int i = 0; i < n; i += 5) v[i] *= 1e5f; // F16 overflow and large exponents
                for (DType dt : new DType[] {DType.BF16, DType.F16}) {
                    MemorySegment s1 = arena.allocate(2L * n + 2), s2 = arena.allocate(2L * n + 2);
                    scalar.fromF32(dt, v, 0, s1, 2, n);
                    panama.fromF32(dt, v, 0, s2, 2, n);
                    assertEquals(-1, s1.mismatch(s2), "fromF32 " + dt + " n=" + n);
                    for (int i = 0; i < n; i++) {
                        short bits = s2.get(Tensor.I16, 2 + 2L * i);
                        short want = dt == DType.BF16 ? Floats.f32ToBf16(v[i]) : Floats.f32ToF16(v[i]);
                        assertEquals(want, bits, "fromF32 " + dt + " of " + v[i]);
                    }
                    float[] ws = new float[n + 1], wp = new float[n + 1];
                    scalar.toF32(dt, s1, 2, ws, 1, n);
                    panama.toF32(dt, s1, 2, wp, 1, n);
                    for (int i = 0; i <= n; i++) {
                        assertEquals(Float.floatToRawIntBits(ws[i]), Float.floatToRawIntBits(wp[i]), "toF32 " + dt + " n=" + n + " i=" + i);
                    }
                }
            }
        }
    }
}
