package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An uncompressed weight: F32, F16 or BF16 (d_out, d_in), stored as {@code <module>.weight} exactly
 * as Hugging Face stores it.
 *
 * @param weight (d_out, d_in) F32/F16/BF16
 */
public record DenseWeight(Tensor weight) implements CompressedWeight {
    public static final String FORMAT = "dense";

    public DenseWeight {
        if (weight.shape().rank() != 2) {
            throw new IllegalArgumentException("dense weight must be (d_out, d_in), got " + weight.shape());
        }
        Formats.requireFloat("dense weight", weight);
        Math.toIntExact(weight.shape().dim(0));
        Math.toIntExact(weight.shape().dim(1));
    }

    /** A dense F32 weight holding a copy of {@code values} (d_out·d_in, row-major). */
    public static DenseWeight ofFloats(Arena arena, int dOut, int dIn, float[] values) {
        return new DenseWeight(Tensor.ofFloats(arena, Formats.matrix(dOut, dIn), values));
    }

    @Override public int dOut() {
        return (int) weight.shape().dim(0);
    }

    @Override public int dIn() {
        return (int) weight.shape().dim(1);
    }

    @Override public String format() {
        return FORMAT;
    }

    @Override public void dequantizeRow(int j, float[] dst, int off) {
        weight.readFloats((long) j * dIn(), dst, off, dIn());
    }

    @Override public void matvec(float[] x, float[] y, FormatKernels k) {
        k.denseMatvec(this, x, y);
    }

    @Override public void matmul(float[] x, int m, float[] y, FormatKernels k) {
        k.denseMatmul(this, x, m, y);
    }

    @Override public long payloadBytes() {
        return weight.byteSize();
    }

    @Override public long storageBytes() {
        return weight.byteSize();
    }

    @Override public DenseWeight rows(int j0, int j1) {
        return new DenseWeight(weight.rows(j0, j1));
    }

    @Override public Map<String, Tensor> toTensors(String module) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put(module + ".weight", weight);
        return m;
    }

    @Override public Map<String, Object> descriptor() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("format", FORMAT);
        d.put("shape", List.of(dOut(), dIn()));
        d.put("dtype", weight.dtype().safetensorsName());
        return d;
    }

    static DenseWeight fromTensors(String module, Map<String, ?> d, Map<String, Tensor> tensors) {
        int[] s = Formats.shape(module, d);
        return new DenseWeight(Formats.require(tensors, module + ".weight", Formats.FLOAT_TYPES, s[0], s[1]));
    }

    /** Reads a dense weight stored under an arbitrary tensor name (factors of the low-rank formats). */
    static DenseWeight named(Map<String, Tensor> tensors, String name, long rows, long cols) {
        return new DenseWeight(Formats.require(tensors, name, Formats.FLOAT_TYPES, rows, cols));
    }
}
