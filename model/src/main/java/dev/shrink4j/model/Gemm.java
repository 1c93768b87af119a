package dev.shrink4j.model;

import dev.shrink4j.tensors.Tensor;
import java.util.stream.IntStream;

/**
 * The matrix products of the runtime, on F32 heap arrays, with weights widened from F32/F16/BF16
 * storage one panel of rows at a time. This is the one place to switch to the {@code Kernels} SPI.
 *
 * <p>The micro-kernel is a 4 × 4 register-blocked dot product: sixteen independent scalar
 * accumulators keep both FMA ports busy without relying on the JIT to vectorize a float reduction
 * (it may not reorder float additions), which measured ~2× faster than an auto-vectorized axpy form.
 */
final class Gemm {
    /** Weight rows widened per task: 64 rows × d_in floats stay within L2 for d_in ≤ 4096. */
    static final int PANEL = 64;

    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private Gemm() {}

    /** Runs {@code body(i)} for i in [0, n) on the common pool (inline when n is 1). */
    static void parallelFor(int n, java.util.function.IntConsumer body) {
        if (n == 1) {
            body.accept(0);
        } else {
            IntStream.range(0, n).parallel().forEach(body);
        }
    }

    private static float[] scratch(int size) {
        float[] s = SCRATCH.get();
        if (s.length < size) {
            s = new float[size];
            SCRATCH.set(s);
        }
        return s;
    }

    /**
     * y(n, d_out) = x(n, d_in) · wᵀ, or += when {@code accumulate}.
     *
     * @param w weight (d_out, d_in), any floating dtype
     */
    static void xwt(float[] x, int n, Tensor w, float[] y, boolean accumulate) {
        int dOut = (int) w.shape().dim(0);
        int dIn = (int) w.shape().dim(1);
        int panels = (dOut + PANEL - 1) / PANEL;
        parallelFor(panels, p -> {
            int j0 = p * PANEL;
            int rows = Math.min(PANEL, dOut - j0);
            float[] panel = scratch(rows * dIn);
            w.readFloats((long) j0 * dIn, panel, 0, rows * dIn);
            kernel(x, 0, n, dIn, panel, rows, y, dOut, j0, accumulate);
        });
    }

    /**
     * dx(n, d_in) = dy(n, d_out) · w, or += when {@code accumulate} (backward through a linear).
     *
     * @param w weight (d_out, d_in), any floating dtype
     */
    static void dyw(float[] dy, int n, Tensor w, float[] dx, boolean accumulate) {
        int dOut = (int) w.shape().dim(0);
        int dIn = (int) w.shape().dim(1);
        int panels = (dIn + PANEL - 1) / PANEL;
        parallelFor(panels, p -> {
            int k0 = p * PANEL;
            int cols = Math.min(PANEL, dIn - k0);
            float[] buf = scratch(cols * dOut + cols);
            float[] row = new float[cols];
            for (int j = 0; j < dOut; j++) {
                w.readFloats((long) j * dIn + k0, row, 0, cols);
                for (int c = 0; c < cols; c++) buf[c * dOut + j] = row[c];
            }
            kernel(dy, 0, n, dOut, buf, cols, dx, dIn, k0, accumulate);
        });
    }

    /** c(m, n) = a(m, k) · b(n, k)ᵀ (+= when {@code accumulate}), all F32 arrays. */
    static void abt(float[] a, int m, int k, float[] b, int n, float[] c, boolean accumulate) {
        int panels = (n + PANEL - 1) / PANEL;
        parallelFor(panels, p -> {
            int j0 = p * PANEL;
            int rows = Math.min(PANEL, n - j0);
            float[] panel = scratch(rows * k);
            System.arraycopy(b, j0 * k, panel, 0, rows * k);
            kernel(a, 0, m, k, panel, rows, c, n, j0, accumulate);
        });
    }

    /**
     * dW(d_out, d_in) (+)= dyᵀ(d_out, n) · x(n, d_in): the weight gradient of a linear summed over tokens.
     */
    static void weightGrad(float[] dy, float[] x, int n, int dOut, int dIn, float[] dw, boolean accumulate) {
        float[] dyT = transpose(dy, n, dOut);
        float[] xT = transpose(x, n, dIn);
        abt(dyT, dOut, n, xT, dIn, dw, accumulate);
    }

    /** The transpose (cols, rows) of a (rows, cols) array. */
    static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[rows * cols];
        int tile = 32;
        parallelFor((rows + tile - 1) / tile, bi -> {
            int i0 = bi * tile;
            int i1 = Math.min(rows, i0 + tile);
            for (int j0 = 0; j0 < cols; j0 += tile) {
                int j1 = Math.min(cols, j0 + tile);
                for (int i = i0; i < i1; i++) {
                    for (int j = j0; j < j1; j++) t[j * rows + i] = a[i * cols + j];
                }
            }
        });
        return t;
    }

    /**
     * c[i·ldc + cOff + j] (+)= Σ_k a[aOff + i·k + kk] · b[j·k + kk] for i in [0, m), j in [0, n):
     * rows of {@code a} against rows of the panel {@code b}.
     */
    static void kernel(float[] a, int aOff, int m, int k, float[] b, int n, float[] c, int ldc, int cOff, boolean accumulate) {
        int i = 0;
        for (; i + 4 <= m; i += 4) {
            int a0 = aOff + i * k;
            int a1 = a0 + k;
            int a2 = a1 + k;
            int a3 = a2 + k;
            int j = 0;
            for (; j + 4 <= n; j += 4) {
                int b0 = j * k;
                int b1 = b0 + k;
                int b2 = b1 + k;
                int b3 = b2 + k;
                float s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
                float s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
                for (int kk = 0; kk < k; kk++) {
                    float p0 = a[a0 + kk], p1 = a[a1 + kk], p2 = a[a2 + kk], p3 = a[a3 + kk];
                    float q0 = b[b0 + kk], q1 = b[b1 + kk], q2 = b[b2 + kk], q3 = b[b3 + kk];
                    s00 += p0 * q0; s01 += p0 * q1; s02 += p0 * q2; s03 += p0 * q3;
                    s10 += p1 * q0; s11 += p1 * q1; s12 += p1 * q2; s13 += p1 * q3;
                    s20 += p2 * q0; s21 += p2 * q1; s22 += p2 * q2; s23 += p2 * q3;
                    s30 += p3 * q0; s31 += p3 * q1; s32 += p3 * q2; s33 += p3 * q3;
                }
                int c0 = i * ldc + cOff + j;
                store(c, c0, s00, s01, s02, s03, accumulate);
                store(c, c0 + ldc, s10, s11, s12, s13, accumulate);
                store(c, c0 + 2 * ldc, s20, s21, s22, s23, accumulate);
                store(c, c0 + 3 * ldc, s30, s31, s32, s33, accumulate);
            }
            for (; j < n; j++) {
                int bj = j * k;
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (int kk = 0; kk < k; kk++) {
                    float q = b[bj + kk];
                    s0 += a[a0 + kk] * q;
                    s1 += a[a1 + kk] * q;
                    s2 += a[a2 + kk] * q;
                    s3 += a[a3 + kk] * q;
                }
                int c0 = i * ldc + cOff + j;
                put(c, c0, s0, accumulate);
                put(c, c0 + ldc, s1, accumulate);
                put(c, c0 + 2 * ldc, s2, accumulate);
                put(c, c0 + 3 * ldc, s3, accumulate);
            }
        }
        for (; i < m; i++) {
            int ai = aOff + i * k;
            int j = 0;
            for (; j + 4 <= n; j += 4) {
                int b0 = j * k;
                int b1 = b0 + k;
                int b2 = b1 + k;
                int b3 = b2 + k;
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (int kk = 0; kk < k; kk++) {
                    float p = a[ai + kk];
                    s0 += p * b[b0 + kk];
                    s1 += p * b[b1 + kk];
                    s2 += p * b[b2 + kk];
                    s3 += p * b[b3 + kk];
                }
                store(c, i * ldc + cOff + j, s0, s1, s2, s3, accumulate);
            }
            for (; j < n; j++) {
                int bj = j * k;
                float s = 0;
                for (int kk = 0; kk < k; kk++) s += a[ai + kk] * b[bj + kk];
                put(c, i * ldc + cOff + j, s, accumulate);
            }
        }
    }

    private static void store(float[] c, int o, float s0, float s1, float s2, float s3, boolean acc) {
        if (acc) {
            c[o] += s0;
            c[o + 1] += s1;
            c[o + 2] += s2;
            c[o + 3] += s3;
        } else {
            c[o] = s0;
            c[o + 1] = s1;
            c[o + 2] = s2;
            c[o + 3] = s3;
        }
    }

    private static void put(float[] c, int o, float s, boolean acc) {
        if (acc) c[o] += s;
        else c[o] = s;
    }
}
