package dev.shrink4j.tensors.kernels.panama;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Parallel;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.kernels.KernelChecks;
import dev.shrink4j.tensors.kernels.Kernels;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernels. Loaded by name from {@link dev.shrink4j.tensors.kernels.KernelsProvider}
 * once the {@code jdk.incubator.vector} module is known to be readable; nothing outside this package
 * sees a {@code Vector} type.
 *
 * <p>Every vector loop: size guard, main loop to {@code loopBound} with independent accumulators,
 * scalar tail. GEMMs go to {@link PanamaGemm}/{@link PanamaDgemm}; matvec and sum stream memory in
 * {@link PanamaMatvec}.
 */
public final class PanamaKernels implements Kernels {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /**
     * Below this many multiply-adds a GEMM runs on the calling thread. With the polling team two threads
     * win from 64³ on (JMH GemmBench, 1 vs 2 threads: 48³ 6 vs 5 µs, 64³ 10 vs 6, 96³ 25 vs 19, 128³
     * 54 vs 35); through a parked fork/join worker the break-even was near 2M.
     */
    static final long PARALLEL_GEMM_WORK = 1L << 17;
    /**
     * Below this many weight elements a matvec or sum streams on the calling thread. With the polling
     * {@code KernelTeam} a region costs ~1 µs to hand over, so two threads win from 256² on (JMH
     * MatvecBench, 2 cores, 1 vs 2 threads: F32 128² 1.8 vs 1.2 µs, 256² 5.1 vs 3.7, 512² 21 vs 11,
     * 1024² 82 vs 46; BF16 256² 4.9 vs 2.7). Through a parked fork/join worker (20–90 µs) the
     * crossover was near 1.5M elements.
     */
    static final long PARALLEL_STREAM_ELEMENTS = 1L << 16;

    private final int threads;

    public PanamaKernels(int threads) {
        this.threads = Math.max(1, threads);
    }

    @Override
    public String name() {
        return "panama";
    }

    @Override
    public int threads() {
        return threads;
    }

    @Override
    public Kernels withThreads(int threads) {
        return new PanamaKernels(threads);
    }

    // ------------------------------------------------------------ per-thread scratch

    private static final ThreadLocal<float[][]> ROW = ThreadLocal.withInitial(() -> new float[][] {new float[1024]});
    private static final ThreadLocal<short[][]> SHORTS = ThreadLocal.withInitial(() -> new short[][] {new short[1024]});

    /** A thread-local float buffer of at least n elements (contents undefined). */
    static float[] scratchRow(int n) {
        float[][] h = ROW.get();
        if (h[0].length < n) h[0] = new float[Math.max(n, 2 * h[0].length)];
        return h[0];
    }

    /** A thread-local short buffer of at least n elements (contents undefined). */
    static short[] scratchShorts(int n) {
        short[][] h = SHORTS.get();
        if (h[0].length < n) h[0] = new short[Math.max(n, 2 * h[0].length)];
        return h[0];
    }

    // ------------------------------------------------------------ level 1

    @Override
    public float dot(int n, float[] x, int xOff, float[] y, int yOff) {
        java.util.Objects.checkFromIndexSize(xOff, n, x.length);
        java.util.Objects.checkFromIndexSize(yOff, n, y.length);
        return PanamaMatvec.dot(n, x, xOff, y, yOff);
    }

    @Override
    public void axpy(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        int i = 0;
        int bound = F.loopBound(n);
        // One FMA per element and no reduction: a single chain is enough, the loop is load/store bound.
        FloatVector va = FloatVector.broadcast(F, alpha);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xOff + i).fma(va, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    @Override
    public void scale(int n, float alpha, float[] x, int xOff) {
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xOff + i).mul(alpha).intoArray(x, xOff + i);
        }
        for (; i < n; i++) x[xOff + i] *= alpha;
    }

    @Override
    public double sum(Tensor t) {
        KernelChecks.floating16or32(t, "sum");
        return PanamaMatvec.sum(t, t.numel() < PARALLEL_STREAM_ELEMENTS || !Parallel.shareable(t.segment()) ? 1 : threads);
    }

    // ------------------------------------------------------------ matvec

    @Override
    public void matvec(Tensor w, float[] x, int xOff, float[] y, int yOff, boolean accumulate) {
        KernelChecks.matrix(w, "matvec weight");
        int dOut = (int) w.shape().dim(0);
        int dIn = (int) w.shape().dim(1);
        java.util.Objects.checkFromIndexSize(xOff, dIn, x.length);
        java.util.Objects.checkFromIndexSize(yOff, dOut, y.length);
        int t = (long) dOut * dIn < PARALLEL_STREAM_ELEMENTS || !Parallel.shareable(w.segment()) ? 1 : threads;
        Parallel.forRange(dOut, 4, t, (r0, r1) -> PanamaMatvec.rows(w, r0, r1, dIn, x, xOff, y, yOff, accumulate));
    }

    @Override
    public void matvec(int dOut, int dIn, float[] w, int wOff, int ldw, float[] x, int xOff, float[] y, int yOff, boolean accumulate) {
        int t = (long) dOut * dIn < PARALLEL_STREAM_ELEMENTS ? 1 : threads;
        Parallel.forRange(dOut, 4, t, (r0, r1) -> PanamaMatvec.rows(w, wOff, ldw, r0, r1, dIn, x, xOff, y, yOff, accumulate));
    }

    // ------------------------------------------------------------ GEMM, F32

    @Override
    public void gemmABt(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                        float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(m, n, k, new Panel.ReductionContiguous(a, aOff, lda), new Panel.ReductionContiguous(b, bOff, ldb), c, cOff, ldc, accumulate, true);
    }

    @Override
    public void gemmAB(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                       float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(m, n, k, new Panel.ReductionContiguous(a, aOff, lda), new Panel.IndexContiguous(b, bOff, ldb, null, 0), c, cOff, ldc, accumulate, true);
    }

    @Override
    public void gemmAtB(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                        float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(m, n, k, new Panel.IndexContiguous(a, aOff, lda, null, 0), new Panel.IndexContiguous(b, bOff, ldb, null, 0), c, cOff, ldc, accumulate, true);
    }

    @Override
    public void gemmABt(int m, float[] a, int aOff, int lda, Tensor w, float[] c, int cOff, int ldc, boolean accumulate) {
        KernelChecks.matrix(w, "gemm weight");
        int n = (int) w.shape().dim(0);
        int k = (int) w.shape().dim(1);
        if (m == 1) {
            // One row: packing W would triple its memory traffic; stream it once instead.
            matvec(w, a, aOff, c, cOff, accumulate);
            return;
        }
        gemm(m, n, k, new Panel.ReductionContiguous(a, aOff, lda), new Panel.Stored(w, false), c, cOff, ldc, accumulate, Parallel.shareable(w.segment()));
    }

    @Override
    public void gemmAB(int m, float[] a, int aOff, int lda, Tensor w, float[] c, int cOff, int ldc, boolean accumulate) {
        KernelChecks.matrix(w, "gemm weight");
        int k = (int) w.shape().dim(0);
        int n = (int) w.shape().dim(1);
        gemm(m, n, k, new Panel.ReductionContiguous(a, aOff, lda), new Panel.Stored(w, true), c, cOff, ldc, accumulate, Parallel.shareable(w.segment()));
    }

    private void gemm(int m, int n, int k, Panel a, Panel b, float[] c, int cOff, int ldc, boolean accumulate, boolean shareable) {
        int t = (long) m * n * k < PARALLEL_GEMM_WORK || !shareable ? 1 : threads;
        // Split the longer side of C so each worker's tiles are as square as possible.
        if (n >= m) {
            Parallel.forRange(n, PanamaGemm.NR, t, (j0, j1) -> PanamaGemm.gemm(0, m, j0, j1, k, a, b, c, cOff, ldc, accumulate, false));
        } else {
            Parallel.forRange(m, PanamaGemm.MR, t, (i0, i1) -> PanamaGemm.gemm(i0, i1, 0, n, k, a, b, c, cOff, ldc, accumulate, false));
        }
    }

    // ------------------------------------------------------------ symmetric rank-k

    @Override
    public void syrkUpper(int rows, int d, float[] x, int xOff, int ldx, float[] rowWeights, int wOff,
                          float[] h, int hOff, int ldh) {
        // H = Aᵀ·diag(s)·A: A(i, t) = x[t, i]·s_t and B(t, j) = x[t, j], both index-contiguous rows of X.
        Panel a = new Panel.IndexContiguous(x, xOff, ldx, rowWeights, wOff);
        Panel b = new Panel.IndexContiguous(x, xOff, ldx, null, 0);
        int t = (long) d * d * rows / 2 < PARALLEL_GEMM_WORK ? 1 : Math.min(threads, Math.max(1, d / PanamaGemm.NR));
        if (t == 1) {
            PanamaGemm.gemm(0, d, 0, d, rows, a, b, h, hOff, ldh, true, true);
            return;
        }
        // Column range c of the upper triangle holds work ∝ j², so equal shares end at d·√(c/t).
        int[] ends = new int[t + 1];
        for (int c = 1; c <= t; c++) {
            int e = c == t ? d : (int) Math.round(d * Math.sqrt((double) c / t) / PanamaGemm.NR) * PanamaGemm.NR;
            ends[c] = Math.max(ends[c - 1], Math.min(d, e));
        }
        Parallel.forEach(t, c -> PanamaGemm.gemm(0, d, ends[c], ends[c + 1], rows, a, b, h, hOff, ldh, true, true));
    }

    // ------------------------------------------------------------ GEMM, F64

    @Override
    public void dgemmABt(int m, int n, int k, double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                         double beta, double[] c, int cOff, int ldc) {
        dgemm(m, n, k, alpha, new PanamaDgemm.DPanel(a, aOff, lda, true), new PanamaDgemm.DPanel(b, bOff, ldb, true), beta, c, cOff, ldc);
    }

    @Override
    public void dgemmAB(int m, int n, int k, double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                        double beta, double[] c, int cOff, int ldc) {
        dgemm(m, n, k, alpha, new PanamaDgemm.DPanel(a, aOff, lda, true), new PanamaDgemm.DPanel(b, bOff, ldb, false), beta, c, cOff, ldc);
    }

    @Override
    public void dgemmAtB(int m, int n, int k, double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                         double beta, double[] c, int cOff, int ldc) {
        dgemm(m, n, k, alpha, new PanamaDgemm.DPanel(a, aOff, lda, false), new PanamaDgemm.DPanel(b, bOff, ldb, false), beta, c, cOff, ldc);
    }

    private void dgemm(int m, int n, int k, double alpha, PanamaDgemm.DPanel a, PanamaDgemm.DPanel b, double beta, double[] c, int cOff, int ldc) {
        int t = (long) m * n * k < PARALLEL_GEMM_WORK ? 1 : threads;
        if (n >= m) {
            Parallel.forRange(n, PanamaDgemm.NR, t, (j0, j1) -> PanamaDgemm.gemm(0, m, j0, j1, k, alpha, a, b, beta, c, cOff, ldc));
        } else {
            Parallel.forRange(m, PanamaDgemm.MR, t, (i0, i1) -> PanamaDgemm.gemm(i0, i1, 0, n, k, alpha, a, b, beta, c, cOff, ldc));
        }
    }

    // ------------------------------------------------------------ conversions

    @Override
    public void toF32(DType srcType, MemorySegment src, long srcByteOff, float[] dst, int dstOff, int n) {
        KernelChecks.sixteenBit(srcType);
        Convert.toF32(srcType, src, srcByteOff, dst, dstOff, n);
    }

    @Override
    public void fromF32(DType dstType, float[] src, int srcOff, MemorySegment dst, long dstByteOff, int n) {
        KernelChecks.sixteenBit(dstType);
        Convert.fromF32(dstType, src, srcOff, dst, dstByteOff, n);
    }

    static float reduce(FloatVector v) {
        return Lanes.sum(v);
    }
}
