package dev.shrink4j.tensors.kernels;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Floats;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * The reference kernels: plain loops in the textbook order, single-threaded, float accumulation for
 * F32 ops and double for F64 ops. Every other implementation is tested against this one.
 */
public final class ScalarKernels implements Kernels {
    private final int threads;

    public ScalarKernels(int threads) {
        this.threads = Math.max(1, threads);
    }

    @Override
    public String name() {
        return "scalar";
    }

    /** The reference runs on the calling thread; the figure is kept only so callers see what they asked for. */
    @Override
    public int threads() {
        return threads;
    }

    @Override
    public Kernels withThreads(int threads) {
        return new ScalarKernels(threads);
    }

    @Override
    public float dot(int n, float[] x, int xOff, float[] y, int yOff) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += x[xOff + i] * y[yOff + i];
        return s;
    }

    @Override
    public void axpy(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    @Override
    public void scale(int n, float alpha, float[] x, int xOff) {
        for (int i = 0; i < n; i++) x[xOff + i] *= alpha;
    }

    @Override
    public double sum(Tensor t) {
        KernelChecks.floating16or32(t, "sum");
        double s = 0;
        long n = t.numel();
        for (long i = 0; i < n; i++) s += t.getFloat(i);
        return s;
    }

    @Override
    public void matvec(Tensor w, float[] x, int xOff, float[] y, int yOff, boolean accumulate) {
        KernelChecks.matrix(w, "matvec weight");
        int dOut = (int) w.shape().dim(0);
        int dIn = (int) w.shape().dim(1);
        for (int i = 0; i < dOut; i++) {
            float s = 0f;
            long row = (long) i * dIn;
            for (int j = 0; j < dIn; j++) s += w.getFloat(row + j) * x[xOff + j];
            y[yOff + i] = accumulate ? y[yOff + i] + s : s;
        }
    }

    @Override
    public void matvec(int dOut, int dIn, float[] w, int wOff, int ldw, float[] x, int xOff, float[] y, int yOff, boolean accumulate) {
        for (int i = 0; i < dOut; i++) {
            float s = dot(dIn, w, wOff + i * ldw, x, xOff);
            y[yOff + i] = accumulate ? y[yOff + i] + s : s;
        }
    }

    @Override
    public void gemmABt(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                        float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += a[aOff + i * lda + p] * b[bOff + j * ldb + p];
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    @Override
    public void gemmAB(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                       float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += a[aOff + i * lda + p] * b[bOff + p * ldb + j];
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    @Override
    public void gemmAtB(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                        float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += a[aOff + p * lda + i] * b[bOff + p * ldb + j];
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    @Override
    public void gemmABt(int m, float[] a, int aOff, int lda, Tensor w, float[] c, int cOff, int ldc, boolean accumulate) {
        KernelChecks.matrix(w, "gemm weight");
        int n = (int) w.shape().dim(0);
        int k = (int) w.shape().dim(1);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += a[aOff + i * lda + p] * w.getFloat((long) j * k + p);
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    @Override
    public void gemmAB(int m, float[] a, int aOff, int lda, Tensor w, float[] c, int cOff, int ldc, boolean accumulate) {
        KernelChecks.matrix(w, "gemm weight");
        int k = (int) w.shape().dim(0);
        int n = (int) w.shape().dim(1);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) s += a[aOff + i * lda + p] * w.getFloat((long) p * n + j);
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    @Override
    public void syrkUpper(int rows, int d, float[] x, int xOff, int ldx, float[] rowWeights, int wOff,
                          float[] h, int hOff, int ldh) {
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                float s = 0f;
                for (int t = 0; t < rows; t++) {
                    float xi = x[xOff + t * ldx + i];
                    if (rowWeights != null) xi *= rowWeights[wOff + t];
                    s += xi * x[xOff + t * ldx + j];
                }
                h[hOff + i * ldh + j] += s;
            }
        }
    }

    @Override
    public void dgemmABt(int m, int n, int k, double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                         double beta, double[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[aOff + i * lda + p] * b[bOff + j * ldb + p];
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0 ? alpha * s : alpha * s + beta * c[ci];
            }
        }
    }

    @Override
    public void dgemmAB(int m, int n, int k, double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                        double beta, double[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[aOff + i * lda + p] * b[bOff + p * ldb + j];
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0 ? alpha * s : alpha * s + beta * c[ci];
            }
        }
    }

    @Override
    public void dgemmAtB(int m, int n, int k, double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                         double beta, double[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[aOff + p * lda + i] * b[bOff + p * ldb + j];
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0 ? alpha * s : alpha * s + beta * c[ci];
            }
        }
    }

    @Override
    public void toF32(DType srcType, MemorySegment src, long srcByteOff, float[] dst, int dstOff, int n) {
        boolean bf16 = KernelChecks.sixteenBit(srcType);
        for (int i = 0; i < n; i++) {
            short bits = src.get(Tensor.I16, srcByteOff + 2L * i);
            dst[dstOff + i] = bf16 ? Floats.bf16ToF32(bits) : Floats.f16ToF32(bits);
        }
    }

    @Override
    public void fromF32(DType dstType, float[] src, int srcOff, MemorySegment dst, long dstByteOff, int n) {
        boolean bf16 = KernelChecks.sixteenBit(dstType);
        for (int i = 0; i < n; i++) {
            float v = src[srcOff + i];
            dst.set(Tensor.I16, dstByteOff + 2L * i, bf16 ? Floats.f32ToBf16(v) : Floats.f32ToF16(v));
        }
    }
}
