package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.Map;

/**
 * A linear layer's weight Ŵ (d_out, d_in) in one storage format: HF convention, row j = output
 * channel j. Every format can widen itself to F32 ({@link #dequantizeRow}, the scalar reference),
 * multiply F32 activations ({@link #matvec}, {@link #matmul}) through a {@link FormatKernels}
 * implementation, state its exact size, and name the safetensors tensors it is stored as plus a
 * small JSON-able descriptor (the {@code shrink4j.tensors} entry of {@code config.json}).
 *
 * <p>Formats own nothing: their tensors are views over memory whose arena the caller (or the
 * mapped checkpoint) owns. Kernels are single-threaded; callers split rows across threads if they want.
 */
public sealed interface CompressedWeight
        permits DenseWeight, UniformQuantized, LutQuantized, CsrSparse, DenseAndSparse, NmSparse, NmQuantized, LowRank, LowRankColumnSparse, LostSilu, GgufBlockWeight {

    /** Output features (rows of Ŵ). */
    int dOut();

    /** Input features (columns of Ŵ). */
    int dIn();

    /** The descriptor's {@code "format"} name, e.g. {@code "uniform"}. */
    String format();

    /** Writes row {@code j} of Ŵ widened to F32 into {@code dst[off..off+d_in)}. The scalar reference. */
    void dequantizeRow(int j, float[] dst, int off);

    /** y = Ŵ·x with the given kernels. x: (d_in), y: (d_out), Modified. */
    void matvec(float[] x, float[] y, FormatKernels kernels);

    /** Y = X·Ŵᵀ with the given kernels. X: (m, d_in) row-major, Y: (m, d_out) row-major, Modified. */
    void matmul(float[] x, int m, float[] y, FormatKernels kernels);

    /** Bytes of the tensors that carry the weights themselves (codes, kept values, factors). */
    long payloadBytes();

    /** Bytes of every tensor the format stores (payload + scales, zeros, indices, codebooks, …). */
    long storageBytes();

    /** The named tensors this weight is stored as, under {@code module} (e.g. {@code model.layers.0.mlp.down_proj}). Views, no copies. */
    Map<String, Tensor> toTensors(String module);

    /** JSON-able description (strings, numbers, booleans, lists, maps) that {@link Formats#fromTensors} reads back. */
    Map<String, Object> descriptor();

    /**
     * Rows [j0, j1) of Ŵ as a weight of the same format over the same memory (no copy), or null when
     * the format cannot compute its rows apart (low-rank: every output needs the whole inner
     * product). Lets a caller split d_out across threads, each running the single-threaded kernels.
     */
    default CompressedWeight rows(int j0, int j1) {
        return null;
    }

    /** y = Ŵ·x with the default kernels ({@link FormatKernels#get()}). */
    default void matvec(float[] x, float[] y) {
        matvec(x, y, FormatKernels.get());
    }

    /** Y = X·Ŵᵀ with the default kernels. X: (m, d_in), Y: (m, d_out), Modified. */
    default void matmul(float[] x, int m, float[] y) {
        matmul(x, m, y, FormatKernels.get());
    }

    /** Tensor form of {@link #matvec(float[], float[])}: x (d_in) any float dtype, y (d_out) F32/F16/BF16, Modified. */
    default void matvec(Tensor x, Tensor y) {
        Formats.checkVector("x", x, dIn());
        Formats.checkVector("y", y, dOut());
        float[] xs = x.toFloatArray();
        float[] ys = new float[dOut()];
        matvec(xs, ys);
        y.writeFloats(0, ys, 0, ys.length);
    }

    /** Tensor form of {@link #matmul(float[], int, float[])}: X (m, d_in), Y (m, d_out), Modified. */
    default void matmul(Tensor x, Tensor y) {
        if (x.shape().rank() != 2 || x.shape().dim(1) != dIn()) {
            throw new IllegalArgumentException("X must be (m, " + dIn() + "), got " + x.shape());
        }
        int m = Math.toIntExact(x.shape().dim(0));
        if (y.shape().rank() != 2 || y.shape().dim(0) != m || y.shape().dim(1) != dOut()) {
            throw new IllegalArgumentException("Y must be (" + m + ", " + dOut() + "), got " + y.shape());
        }
        float[] ys = new float[Math.multiplyExact(m, dOut())];
        matmul(x.toFloatArray(), m, ys);
        y.writeFloats(0, ys, 0, ys.length);
    }

    /** Ŵ widened to a new F32 (d_out, d_in) tensor in {@code arena}. */
    default Tensor dequantize(Arena arena) {
        Tensor out = Tensor.allocate(arena, DType.F32, Shape.matrix(dOut(), dIn()));
        float[] row = new float[dIn()];
        for (int j = 0; j < dOut(); j++) {
            dequantizeRow(j, row, 0);
            out.writeFloats((long) j * dIn(), row, 0, row.length);
        }
        return out;
    }

    /** Exact stored bits per weight: {@code 8 · storageBytes / (d_out · d_in)}. */
    default double bitsPerWeight() {
        return 8.0 * storageBytes() / ((double) dOut() * dIn());
    }

    /** Exact payload bits per weight: {@code 8 · payloadBytes / (d_out · d_in)}. */
    default double payloadBitsPerWeight() {
        return 8.0 * payloadBytes() / ((double) dOut() * dIn());
    }
}
