package dev.shrink4j.tensors.formats;

import java.util.Optional;

/**
 * The kernels behind the compressed formats: a scalar reference ({@link #scalar()}) and a Vector
 * API implementation ({@code dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels}) loaded by
 * name at run time, so incubator classes are never linked when the module is absent. The system
 * property {@code shrink4j.kernels=scalar|panama} forces a choice (the same switch as the dense
 * {@code Kernels} SPI); anything else selects Panama when it loads, else scalar.
 *
 * <p>All activations are F32 heap arrays; weights are read from their tensors' segments. Outputs
 * are Modified; {@code …Add} methods accumulate into them.
 */
public interface FormatKernels {
    String PANAMA_CLASS = "dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels";

    /** "scalar" or "panama". */
    String name();

    /** y = W·x. W (d_out, d_in) F32/F16/BF16; x (d_in); y (d_out). */
    void denseMatvec(DenseWeight w, float[] x, float[] y);

    /** Y = X·Wᵀ. X (m, d_in); Y (m, d_out). */
    void denseMatmul(DenseWeight w, float[] x, int m, float[] y);

    /** y = Ŵ·x for uniform group quantization. */
    void uniformMatvec(UniformQuantized w, float[] x, float[] y);

    /** Y = X·Ŵᵀ for uniform group quantization. */
    void uniformMatmul(UniformQuantized w, float[] x, int m, float[] y);

    /** y = Ŵ·x for codebook (LUT) quantization. */
    void lutMatvec(LutQuantized w, float[] x, float[] y);

    /** Y = X·Ŵᵀ for codebook (LUT) quantization. */
    void lutMatmul(LutQuantized w, float[] x, int m, float[] y);

    /** y += S·x for a CSR matrix S. */
    void csrMatvecAdd(CsrSparse s, float[] x, float[] y);

    /** y = Ŵ·x for N:M semi-structured sparsity. */
    void nmMatvec(NmSparse w, float[] x, float[] y);

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

    /** The kernels chosen once for this JVM. */
    static FormatKernels get() {
        return FormatKernelsChoice.INSTANCE;
    }

    /** The scalar reference. */
    static FormatKernels scalar() {
        return ScalarFormatKernels.INSTANCE;
    }

    /** The Vector API kernels, if {@code jdk.incubator.vector} is present and usable on this CPU. */
    static Optional<FormatKernels> panama() {
        return FormatKernelsChoice.PANAMA;
    }
}
