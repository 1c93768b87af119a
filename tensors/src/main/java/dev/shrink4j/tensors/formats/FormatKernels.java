package dev.shrink4j.tensors.formats;

import java.util.Optional;

/**
 * The kernels behind the compressed formats: a scalar reference ({@link #scalar()}) and a Vector
 * API implementation ({@code dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels}) loaded by
 * name at run time, so incubator classes are never linked when the module is absent. The system
 * property {@code shrink4j.kernels=scalar|panama|cuda[:N]} forces a choice (the same switch as the
 * dense {@code Kernels} SPI); anything else selects Panama when it loads, else scalar. An application
 * (the CLI's {@code --device}) may replace the choice at run time with {@link #use}.
 *
 * <p>All activations are F32 heap arrays; weights are read from their tensors' segments. Outputs
 * are Modified; {@code …Add} methods accumulate into them.
 */
public interface FormatKernels {
    String PANAMA_CLASS = "dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels";

    /** "scalar", "panama" or "cuda". */
    String name();

    /** y = W·x. W (d_out, d_in) F32/F16/BF16; x (d_in); y (d_out). */
    void denseMatvec(DenseWeight w, float[] x, float[] y);

    /** Y = X·Wᵀ. X (m, d_in); Y (m, d_out). */
    void denseMatmul(DenseWeight w, float[] x, int m, float[] y);

    /** y = Ŵ·x for uniform group quantization. */
    void uniformMatvec(UniformQuantized w, float[] x, float[] y);

    /** Y = X·Ŵᵀ for uniform group quantization. */
    void uniformMatmul(UniformQuantized w, float[] x, int m, float[] y);

    /**
     * y = Ŵ·x̂ with int8 activations (one row, {@code x.rows() == 1}); Ŵ as
     * {@link ActivationPrecision#int8Supported}. Default: the scalar spec {@link ScalarInt8Uniform}.
     */
    default void uniformMatvecInt8(UniformQuantized w, Int8Activations x, float[] y) {
        ScalarInt8Uniform.matvec(w, x, 0, y, 0);
    }

    /** Y = X̂·Ŵᵀ with int8 activations: X̂ (m, d_in) quantized row by row, Y (m, d_out). Default: the scalar spec. */
    default void uniformMatmulInt8(UniformQuantized w, Int8Activations x, float[] y) {
        for (int r = 0; r < x.rows(); r++) ScalarInt8Uniform.matvec(w, x, r, y, r * w.dOut());
    }

    /** y = Ŵ·x for codebook (LUT) quantization. */
    void lutMatvec(LutQuantized w, float[] x, float[] y);

    /** Y = X·Ŵᵀ for codebook (LUT) quantization. */
    void lutMatmul(LutQuantized w, float[] x, int m, float[] y);

    /** y += S·x for a CSR matrix S. */
    void csrMatvecAdd(CsrSparse s, float[] x, float[] y);

    /** Y += X·Sᵀ for a CSR matrix S. X (m, d_in); Y (m, d_out). By default one {@link #csrMatvecAdd} per row of X. */
    default void csrMatmulAdd(CsrSparse s, float[] x, int m, float[] y) {
        int dIn = s.dIn(), dOut = s.dOut();
        float[] xr = new float[dIn];
        float[] yr = new float[dOut];
        for (int r = 0; r < m; r++) {
            System.arraycopy(x, r * dIn, xr, 0, dIn);
            System.arraycopy(y, r * dOut, yr, 0, dOut);
            csrMatvecAdd(s, xr, yr);
            System.arraycopy(yr, 0, y, r * dOut, dOut);
        }
    }

    /** y = Ŵ·x for N:M semi-structured sparsity. */
    void nmMatvec(NmSparse w, float[] x, float[] y);

    /** Y = X·Ŵᵀ for N:M semi-structured sparsity. X (m, d_in); Y (m, d_out). By default one {@link #nmMatvec} per row of X. */
    default void nmMatmul(NmSparse w, float[] x, int m, float[] y) {
        int dIn = w.dIn(), dOut = w.dOut();
        float[] xr = new float[dIn];
        float[] yr = new float[dOut];
        for (int r = 0; r < m; r++) {
            System.arraycopy(x, r * dIn, xr, 0, dIn);
            nmMatvec(w, xr, yr);
            System.arraycopy(yr, 0, y, r * dOut, dOut);
        }
    }

    /**
     * y = Ŵ·x for N:M sparsity with uniformly quantized kept values. The default is the scalar reference,
     * so implementations without a kernel for it (the CUDA one) inherit it.
     */
    default void nmUniformMatvec(NmQuantized w, float[] x, float[] y) {
        ScalarFormatKernels.INSTANCE.nmUniformMatvec(w, x, y);
    }

    /** Y = X·Ŵᵀ for N:M sparsity with quantized kept values; X (m, d_in), Y (m, d_out). One {@link #nmUniformMatvec} per row of X. */
    default void nmUniformMatmul(NmQuantized w, float[] x, int m, float[] y) {
        int dIn = w.dIn(), dOut = w.dOut();
        float[] xr = new float[dIn];
        float[] yr = new float[dOut];
        for (int r = 0; r < m; r++) {
            System.arraycopy(x, r * dIn, xr, 0, dIn);
            nmUniformMatvec(w, xr, yr);
            System.arraycopy(yr, 0, y, r * dOut, dOut);
        }
    }

    /**
     * y = Ŵ·x for a weight in one of ggml's block formats. The default is the scalar reference, so
     * implementations without a kernel for these (the CUDA one) inherit it.
     */
    default void ggufMatvec(GgufBlockWeight w, float[] x, float[] y) {
        ScalarFormatKernels.INSTANCE.ggufMatvec(w, x, y);
    }

    /** Y = X·Ŵᵀ for a weight in one of ggml's block formats; X (m, d_in), Y (m, d_out). */
    default void ggufMatmul(GgufBlockWeight w, float[] x, int m, float[] y) {
        ScalarFormatKernels.INSTANCE.ggufMatmul(w, x, m, y);
    }

    /**
     * The kernels in use: the one {@link #use} installed, else the one the property chose for this JVM
     * (chosen on first use). Read it per call, not into a static field, so a later {@link #use} is seen.
     */
    static FormatKernels get() {
        return FormatKernelsChoice.get();
    }

    /**
     * Makes {@link #get()} return {@code k} from now on ({@code null}: the property's choice again) and
     * returns the previous override (null when there was none), so a caller can restore it. Visible to
     * every thread at once (a volatile write); calls already running finish on the kernels they started with.
     */
    static FormatKernels use(FormatKernels k) {
        return FormatKernelsChoice.use(k);
    }

    /** The CPU kernels: scalar when {@code -Dshrink4j.kernels=scalar}, else Panama when it loads, else scalar. */
    static FormatKernels cpu() {
        return FormatKernelsChoice.cpu();
    }

    /**
     * The CUDA kernels of device {@code ordinal} over {@code cpu}, loaded by name ({@code
     * dev.shrink4j.cuda.CudaFormatKernels}, module native).
     *
     * @throws UnsupportedOperationException with one line saying why they cannot be used
     */
    static FormatKernels cuda(FormatKernels cpu, int ordinal) {
        return FormatKernelsChoice.cuda(cpu, ordinal);
    }

    /** The scalar reference. */
    static FormatKernels scalar() {
        return ScalarFormatKernels.INSTANCE;
    }

    /** The Vector API kernels, if {@code jdk.incubator.vector} is present and usable on this CPU. */
    static Optional<FormatKernels> panama() {
        return FormatKernelsChoice.panama();
    }
}
