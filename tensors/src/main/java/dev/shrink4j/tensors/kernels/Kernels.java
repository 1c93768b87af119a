package dev.shrink4j.tensors.kernels;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * The numeric kernels every method runs on: level-1 ops, matvec, GEMM (F32 and F64), symmetric
 * rank-k accumulation and 16-bit float conversions.
 *
 * <p>{@link ScalarKernels} is the reference (the spec); {@code panama.PanamaKernels} is the Vector API
 * implementation, loaded by name at run time by {@link KernelsProvider}. Obtain one with
 * {@link #get()}; {@code -Dshrink4j.kernels=scalar|panama|cuda} forces a choice (cuda: the
 * {@code native} module's {@code dev.shrink4j.cuda.CudaKernels}, also loaded by name; docs/cuda.md).
 *
 * <p>Conventions: matrices are row-major with an explicit offset and leading dimension (the distance
 * between two rows), as in BLAS; shapes are given as {@code (rows, cols)}. Outputs are passed in and
 * modified; with {@code accumulate} false an output is overwritten, with true it is added to. Mapped
 * weights come as {@link Tensor}s (F32, BF16 or F16, row-major, contiguous). Implementations are
 * thread-safe; the multi-threaded ops split output tiles over {@link #threads()} workers of the shared
 * {@link dev.shrink4j.tensors.Parallel} pool. Memory of a confined {@link java.lang.foreign.Arena} may
 * only be touched by its owner thread, so ops given such segments run on the calling thread; allocate
 * with {@code Arena.ofShared()} (mapped checkpoints are shared) to get all cores.
 */
public interface Kernels {

    /** The implementation chosen for this JVM (Panama when the Vector API is readable, else scalar). */
    static Kernels get() {
        return KernelsProvider.get();
    }

    /** {@code "scalar"}, {@code "panama"} or {@code "cuda"}. */
    String name();

    /** How many workers the multi-threaded ops use. */
    int threads();

    /** The same kernels using at most {@code threads} workers (1 = run on the calling thread). */
    Kernels withThreads(int threads);

    // ---------------------------------------------------------------- level 1

    /** Σ x[xOff+i]·y[yOff+i] for i in [0, n). */
    float dot(int n, float[] x, int xOff, float[] y, int yOff);

    /** y[yOff+i] += alpha·x[xOff+i]. Modifies y. */
    void axpy(int n, float alpha, float[] x, int xOff, float[] y, int yOff);

    /** x[xOff+i] *= alpha. Modifies x. */
    void scale(int n, float alpha, float[] x, int xOff);

    /** Σ of all elements of {@code t} (F32, BF16 or F16) widened to float, accumulated in float per block and double across blocks. */
    double sum(Tensor t);

    // ---------------------------------------------------------------- matvec

    /**
     * y = W·x (or y += W·x) with W {@code (d_out, d_in)} in F32, BF16 or F16.
     *
     * @param w (d_out, d_in) weight, row-major, contiguous
     * @param x (d_in) starting at xOff
     * @param y (d_out) starting at yOff; modified
     */
    void matvec(Tensor w, float[] x, int xOff, float[] y, int yOff, boolean accumulate);

    /**
     * y = W·x (or y += W·x) with W a heap F32 matrix.
     *
     * @param w (dOut, dIn) at wOff with leading dimension ldw
     */
    void matvec(int dOut, int dIn, float[] w, int wOff, int ldw, float[] x, int xOff, float[] y, int yOff, boolean accumulate);

    // ---------------------------------------------------------------- GEMM, F32

    /**
     * C = A·Bᵀ (or C += A·Bᵀ).
     *
     * @param a (m, k), leading dimension lda
     * @param b (n, k), leading dimension ldb
     * @param c (m, n), leading dimension ldc; modified
     */
    void gemmABt(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                 float[] c, int cOff, int ldc, boolean accumulate);

    /**
     * C = A·B (or C += A·B).
     *
     * @param a (m, k), leading dimension lda
     * @param b (k, n), leading dimension ldb
     * @param c (m, n), leading dimension ldc; modified
     */
    void gemmAB(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                float[] c, int cOff, int ldc, boolean accumulate);

    /**
     * C = Aᵀ·B (or C += Aᵀ·B), e.g. a weight gradient dW = dYᵀ·X.
     *
     * @param a (k, m), leading dimension lda
     * @param b (k, n), leading dimension ldb
     * @param c (m, n), leading dimension ldc; modified
     */
    void gemmAtB(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                 float[] c, int cOff, int ldc, boolean accumulate);

    /**
     * C = A·Wᵀ (or C += A·Wᵀ) with a stored weight: the linear layer's forward pass Y = X·Wᵀ.
     *
     * @param a (m, k), leading dimension lda
     * @param w (n, k) in F32, BF16 or F16, row-major, contiguous
     * @param c (m, n), leading dimension ldc; modified
     */
    void gemmABt(int m, float[] a, int aOff, int lda, Tensor w, float[] c, int cOff, int ldc, boolean accumulate);

    /**
     * C = A·W (or C += A·W) with a stored weight, e.g. the input gradient dX = dY·W.
     *
     * @param a (m, k), leading dimension lda
     * @param w (k, n) in F32, BF16 or F16, row-major, contiguous
     * @param c (m, n), leading dimension ldc; modified
     */
    void gemmAB(int m, float[] a, int aOff, int lda, Tensor w, float[] c, int cOff, int ldc, boolean accumulate);

    /** C = A·Bᵀ for contiguous A (m, k), B (n, k), C (m, n). */
    default void gemmABt(int m, int n, int k, float[] a, float[] b, float[] c) {
        gemmABt(m, n, k, a, 0, k, b, 0, k, c, 0, n, false);
    }

    /** C = A·B for contiguous A (m, k), B (k, n), C (m, n). */
    default void gemmAB(int m, int n, int k, float[] a, float[] b, float[] c) {
        gemmAB(m, n, k, a, 0, k, b, 0, n, c, 0, n, false);
    }

    /** C = Aᵀ·B for contiguous A (k, m), B (k, n), C (m, n). */
    default void gemmAtB(int m, int n, int k, float[] a, float[] b, float[] c) {
        gemmAtB(m, n, k, a, 0, m, b, 0, n, c, 0, n, false);
    }

    // ---------------------------------------------------------------- symmetric rank-k

    /**
     * H += Σ_t s_t·x_t·x_tᵀ over the rows x_t of X, on the upper triangle only (j ≥ i); entries
     * below the diagonal are not touched. With {@code rowWeights} null every s_t is 1 (H += XᵀX, the
     * GPTQ Hessian); with weights it is GuidedQuant's row-weighted H̄ₖ (docs/methods/guidedquant-lnq.md).
     *
     * @param x          (rows, d), leading dimension ldx
     * @param rowWeights (rows) at wOff, or null
     * @param h          (d, d), leading dimension ldh; upper triangle modified
     */
    void syrkUpper(int rows, int d, float[] x, int xOff, int ldx, float[] rowWeights, int wOff,
                   float[] h, int hOff, int ldh);

    /** Copies the upper triangle of the (n, n) matrix h onto its lower triangle. Modifies h. */
    default void mirrorUpper(int n, float[] h, int hOff, int ldh) {
        for (int i = 1; i < n; i++) {
            for (int j = 0; j < i; j++) {
                h[hOff + i * ldh + j] = h[hOff + j * ldh + i];
            }
        }
    }

    // ---------------------------------------------------------------- GEMM, F64 (linalg)

    /**
     * C = alpha·A·Bᵀ + beta·C in fp64 (beta 0 ignores C's old contents, NaN included).
     *
     * @param a (m, k), leading dimension lda
     * @param b (n, k), leading dimension ldb
     * @param c (m, n), leading dimension ldc; modified
     */
    void dgemmABt(int m, int n, int k, double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                  double beta, double[] c, int cOff, int ldc);

    /**
     * C = alpha·A·B + beta·C in fp64.
     *
     * @param a (m, k), leading dimension lda
     * @param b (k, n), leading dimension ldb
     * @param c (m, n), leading dimension ldc; modified
     */
    void dgemmAB(int m, int n, int k, double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                 double beta, double[] c, int cOff, int ldc);

    /**
     * C = alpha·Aᵀ·B + beta·C in fp64.
     *
     * @param a (k, m), leading dimension lda
     * @param b (k, n), leading dimension ldb
     * @param c (m, n), leading dimension ldc; modified
     */
    void dgemmAtB(int m, int n, int k, double alpha, double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                  double beta, double[] c, int cOff, int ldc);

    // ---------------------------------------------------------------- conversions

    /**
     * Widens n 16-bit floats ({@code src} holds BF16 or F16, little-endian, from byte offset
     * {@code srcByteOff}) into dst[dstOff..].
     */
    void toF32(DType srcType, MemorySegment src, long srcByteOff, float[] dst, int dstOff, int n);

    /**
     * Narrows n floats to BF16 or F16 (round to nearest even, as {@link dev.shrink4j.tensors.Floats}),
     * written little-endian into {@code dst} from byte offset {@code dstByteOff}.
     */
    void fromF32(DType dstType, float[] src, int srcOff, MemorySegment dst, long dstByteOff, int n);
}
