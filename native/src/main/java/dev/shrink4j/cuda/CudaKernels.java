package dev.shrink4j.cuda;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.kernels.KernelChecks;
import dev.shrink4j.tensors.kernels.Kernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The {@link Kernels} SPI on a CUDA device: the F32 GEMMs (A·Bᵀ, A·B, Aᵀ·B, with F32/BF16/F16 stored
 * weights) and {@code syrkUpper} (plain and row-weighted) run as the kernels of
 * {@code native/src/main/cuda/shrink4j_kernels.cu} when the product has at least {@code minWork}
 * multiply-adds (below that the copies cost more than they save); everything else, and small
 * products, goes to the CPU kernels it wraps. Loaded by name by {@code KernelsProvider}
 * ({@code -Dshrink4j.kernels=cuda}) or chosen by the CLI's {@code --device}.
 *
 * <p>Activations are copied per call through the device's page-locked staging segment; stored
 * weights in read-only (mapped) memory stay resident on the device across calls
 * ({@link CudaDevice#resident}), writable ones are copied per call. Results are exact F32 sums in a fixed order
 * per output, compared with the scalar reference by the tests at the same tolerance as Panama.
 */
public final class CudaKernels implements Kernels {
    /** System property: the smallest product (multiply-adds) sent to the device; default 2^24. */
    public static final String MIN_WORK_PROPERTY = "shrink4j.cuda.minWork";
    private static final int TILE = 64;      // S4J_BM = S4J_BN in the .cu: the C tile of one block
    private static final int THREADS = 16;   // S4J_THREADS_1D: the block is THREADS × THREADS threads
    private static final int MAX_GRID_Y = 65535;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Kernels cpu;
    private final CudaDevice device;
    private final long minWork;

    /** The configured driver's device 0 ({@link Cuda#device()}) over {@code cpu}; throws {@link CudaUnavailableException} without one. */
    public CudaKernels(Kernels cpu) {
        this(cpu, 0);
    }

    /** The configured driver's device {@code ordinal} over {@code cpu}; throws {@link CudaUnavailableException} without one. */
    public CudaKernels(Kernels cpu, int ordinal) {
        this(cpu, Cuda.device(ordinal), Long.getLong(MIN_WORK_PROPERTY, 1L << 24));
    }

    public CudaKernels(Kernels cpu, CudaDevice device, long minWork) {
        if (cpu instanceof CudaKernels) throw new IllegalArgumentException("the fallback must be a CPU implementation");
        this.cpu = cpu;
        this.device = device;
        this.minWork = minWork;
    }

    public CudaDevice device() {
        return device;
    }

    @Override public String name() {
        return "cuda";
    }

    @Override public int threads() {
        return cpu.threads();
    }

    @Override public Kernels withThreads(int threads) {
        return new CudaKernels(cpu.withThreads(threads), device, minWork);
    }

    private boolean onDevice(long m, long n, long k) {
        return m > 0 && n > 0 && k > 0 && m * n * k >= minWork && (m + TILE - 1) / TILE <= MAX_GRID_Y;
    }

    // ---------------------------------------------------------------- GEMM

    @Override public void gemmABt(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                  float[] c, int cOff, int ldc, boolean accumulate) {
        if (!onDevice(m, n, k)) {
            cpu.gemmABt(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
            return;
        }
        gemm("s4j_gemm_f32", m, n, k, a, aOff, span(m, lda, k), lda, 1, b, null, bOff, span(n, ldb, k), 1, ldb, c, cOff, ldc, accumulate);
    }

    @Override public void gemmAB(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                 float[] c, int cOff, int ldc, boolean accumulate) {
        if (!onDevice(m, n, k)) {
            cpu.gemmAB(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
            return;
        }
        gemm("s4j_gemm_f32", m, n, k, a, aOff, span(m, lda, k), lda, 1, b, null, bOff, span(k, ldb, n), ldb, 1, c, cOff, ldc, accumulate);
    }

    @Override public void gemmAtB(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                  float[] c, int cOff, int ldc, boolean accumulate) {
        if (!onDevice(m, n, k)) {
            cpu.gemmAtB(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
            return;
        }
        gemm("s4j_gemm_f32", m, n, k, a, aOff, span(k, lda, m), 1, lda, b, null, bOff, span(k, ldb, n), ldb, 1, c, cOff, ldc, accumulate);
    }

    @Override public void gemmABt(int m, float[] a, int aOff, int lda, Tensor w, float[] c, int cOff, int ldc, boolean accumulate) {
        KernelChecks.matrix(w, "W");
        int n = (int) w.shape().dim(0), k = (int) w.shape().dim(1);
        if (!onDevice(m, n, k)) {
            cpu.gemmABt(m, a, aOff, lda, w, c, cOff, ldc, accumulate);
            return;
        }
        gemm(kernelFor(w.dtype()), m, n, k, a, aOff, span(m, lda, k), lda, 1, null, w, 0, 0, 1, k, c, cOff, ldc, accumulate);
    }

    @Override public void gemmAB(int m, float[] a, int aOff, int lda, Tensor w, float[] c, int cOff, int ldc, boolean accumulate) {
        KernelChecks.matrix(w, "W");
        int k = (int) w.shape().dim(0), n = (int) w.shape().dim(1);
        if (!onDevice(m, n, k)) {
            cpu.gemmAB(m, a, aOff, lda, w, c, cOff, ldc, accumulate);
            return;
        }
        gemm(kernelFor(w.dtype()), m, n, k, a, aOff, span(m, lda, k), lda, 1, null, w, 0, 0, n, 1, c, cOff, ldc, accumulate);
    }

    private static String kernelFor(DType t) {
        return switch (t) {
            case F32 -> "s4j_gemm_f32";
            case BF16 -> "s4j_gemm_bf16";
            case F16 -> "s4j_gemm_f16";
            default -> throw new IllegalArgumentException("W must be F32, BF16 or F16, got " + t);
        };
    }

    /** Elements from the first to the last of a (rows, cols) matrix with leading dimension ld. */
    private static long span(long rows, long ld, long cols) {
        return (rows - 1) * ld + cols;
    }

    /**
     * C(i, j) (+)= Σ_p A(i, p)·B(p, j), A(i, p) = a[aOff + i·sai + p·sap], B from the heap array b or
     * the stored weight w, B(p, j) at element p·sbp + j·sbj.
     */
    private void gemm(String kernel, int m, int n, int k, float[] a, int aOff, long spanA, long sai, long sap,
                      float[] b, Tensor w, int bOff, long spanB, long sbp, long sbj,
                      float[] c, int cOff, int ldc, boolean accumulate) {
        long spanC = span(m, ldc, n);
        // C's gaps between rows (ldc > n) must come back unchanged, so C goes up unless it is dense and overwritten.
        boolean cUp = accumulate || ldc != n;
        long bytesA = spanA * 4, bytesB = b == null ? 0 : spanB * 4, bytesC = spanC * 4;
        synchronized (device) {
            device.enter();
            MemorySegment st = device.staging(bytesA + bytesB + bytesC);
            MemorySegment.copy(a, aOff, st, F, 0, (int) spanA);
            long dA = device.scratch(0, bytesA), dC = device.scratch(2, bytesC), dB;
            device.uploadStaged(0, dA, bytesA);
            if (b != null) {
                MemorySegment.copy(b, bOff, st, F, bytesA, (int) spanB);
                dB = device.scratch(1, bytesB);
                device.uploadStaged(bytesA, dB, bytesB);
            } else {
                dB = device.resident(w.segment(), "raw", w.byteSize(), 1, null);
            }
            long cAt = bytesA + bytesB;
            if (cUp) {
                MemorySegment.copy(c, cOff, st, F, cAt, (int) spanC);
                device.uploadStaged(cAt, dC, bytesC);
            }
            device.launch(kernel, (n + TILE - 1) / TILE, (m + TILE - 1) / TILE, THREADS, THREADS,
                    m, n, k, dA, sai, sap, dB, sbp, sbj, dC, (long) ldc, accumulate ? 1 : 0);
            device.downloadStaged(dC, cAt, bytesC);
            device.sync();
            MemorySegment.copy(st, F, cAt, c, cOff, (int) spanC);
        }
    }

    // ---------------------------------------------------------------- SYRK

    @Override public void syrkUpper(int rows, int d, float[] x, int xOff, int ldx, float[] rowWeights, int wOff,
                                    float[] h, int hOff, int ldh) {
        if (!onDevice(d, d, rows)) {
            cpu.syrkUpper(rows, d, x, xOff, ldx, rowWeights, wOff, h, hOff, ldh);
            return;
        }
        long spanX = span(rows, ldx, d), spanH = span(d, ldh, d);
        long bytesX = spanX * 4, bytesW = rowWeights == null ? 0 : rows * 4L, bytesH = spanH * 4;
        synchronized (device) {
            device.enter();
            MemorySegment st = device.staging(bytesX + bytesW + bytesH);
            MemorySegment.copy(x, xOff, st, F, 0, (int) spanX);
            long dX = device.scratch(0, bytesX), dH = device.scratch(2, bytesH);
            device.uploadStaged(0, dX, bytesX);
            Object dW = MemorySegment.NULL;
            if (rowWeights != null) {
                MemorySegment.copy(rowWeights, wOff, st, F, bytesX, rows);
                long p = device.scratch(1, bytesW);
                device.uploadStaged(bytesX, p, bytesW);
                dW = p;
            }
            long hAt = bytesX + bytesW;
            MemorySegment.copy(h, hOff, st, F, hAt, (int) spanH);
            device.uploadStaged(hAt, dH, bytesH);
            int tiles = (d + TILE - 1) / TILE;
            device.launch("s4j_syrk_upper", tiles, tiles, THREADS, THREADS, rows, d, dX, (long) ldx, dW, dH, (long) ldh);
            device.downloadStaged(dH, hAt, bytesH);
            device.sync();
            MemorySegment.copy(st, F, hAt, h, hOff, (int) spanH);
        }
    }

    // ---------------------------------------------------------------- on the CPU

    @Override public float dot(int n, float[] x, int xOff, float[] y, int yOff) {
        return cpu.dot(n, x, xOff, y, yOff);
    }

    @Override public void axpy(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        cpu.axpy(n, alpha, x, xOff, y, yOff);
    }

    @Override public void scale(int n, float alpha, float[] x, int xOff) {
        cpu.scale(n, alpha, x, xOff);
    }

    @Override public double sum(Tensor t) {
        return cpu.sum(t);
    }

    /** A matvec reads each weight once: the copy to the device would cost as much as the CPU's pass. */
    @Override public void matvec(Tensor w, float[] x, int xOff, float[] y, int yOff, boolean accumulate) {
        cpu.matvec(w, x, xOff, y, yOff, accumulate);
    }

    @Override public void matvec(int dOut, int dIn, float[] w, int wOff, int ldw, float[] x, int xOff, float[] y, int yOff, boolean accumulate) {
        cpu.matvec(dOut, dIn, w, wOff, ldw, x, xOff, y, yOff, accumulate);
    }

    @Override public void mirrorUpper(int n, float[] h, int hOff, int ldh) {
        cpu.mirrorUpper(n, h, hOff, ldh);
    }

    @Override public void dgemmABt(int m, int n, int k, double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                                   double beta, double[] c, int cOff, int ldc) {
        cpu.dgemmABt(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override public void dgemmAB(int m, int n, int k, double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                                  double beta, double[] c, int cOff, int ldc) {
        cpu.dgemmAB(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override public void dgemmAtB(int m, int n, int k, double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                                   double beta, double[] c, int cOff, int ldc) {
        cpu.dgemmAtB(m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override public void toF32(DType srcType, MemorySegment src, long srcByteOff, float[] dst, int dstOff, int n) {
        cpu.toF32(srcType, src, srcByteOff, dst, dstOff, n);
    }

    @Override public void fromF32(DType dstType, float[] src, int srcOff, MemorySegment dst, long dstByteOff, int n) {
        cpu.fromF32(dstType, src, srcOff, dst, dstByteOff, n);
    }
}
