package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dense-and-sparse (SqueezeLLM, ReQuant; docs/methods/pqi-requant.md §6): Ŵ = base + S, where base is any
 * non-composite format (usually uniform or LUT quantized) and S holds the outliers in CSR.
 * Stored as the base's tensors plus {@code .sparse_values}, {@code .sparse_indices},
 * {@code .sparse_rowptr}; bits = base bits + 48·nnz/(d_out·d_in) + 32·(d_out + 1)/(d_out·d_in).
 */
public record DenseAndSparse(CompressedWeight base, CsrSparse sparse) implements CompressedWeight {
    public static final String FORMAT = "dense_and_sparse";

    public DenseAndSparse {
        if (base instanceof DenseAndSparse || base instanceof CsrSparse) {
            throw new IllegalArgumentException("dense-and-sparse base must not itself be sparse: " + base.format());
        }
        if (base.dOut() != sparse.dOut() || base.dIn() != sparse.dIn()) {
            throw new IllegalArgumentException("base (" + base.dOut() + ", " + base.dIn() + ") and sparse (" + sparse.dOut() + ", " + sparse.dIn() + ") differ in shape");
        }
    }

    @Override public int dOut() {
        return base.dOut();
    }

    @Override public int dIn() {
        return base.dIn();
    }

    @Override public String format() {
        return FORMAT;
    }

    @Override public void dequantizeRow(int j, float[] dst, int off) {
        base.dequantizeRow(j, dst, off);
        sparse.addRow(j, dst, off);
    }

    @Override public void matvec(float[] x, float[] y, FormatKernels k) {
        base.matvec(x, y, k);
        k.csrMatvecAdd(sparse, x, y);
    }

    @Override public void matmul(float[] x, int m, float[] y, FormatKernels k) {
        base.matmul(x, m, y, k);
        k.csrMatmulAdd(sparse, x, m, y);
    }

    @Override public long payloadBytes() {
        return base.payloadBytes() + sparse.payloadBytes();
    }

    @Override public long storageBytes() {
        return base.storageBytes() + sparse.storageBytes();
    }

    @Override public Map<String, Tensor> toTensors(String module) {
        Map<String, Tensor> m = new LinkedHashMap<>(base.toTensors(module));
        m.putAll(sparse.toTensors(module));
        return m;
    }

    @Override public Map<String, Object> descriptor() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("format", FORMAT);
        d.put("shape", List.of(dOut(), dIn()));
        d.put("nnz", sparse.nnz());
        d.put("base", base.descriptor());
        return d;
    }

    static DenseAndSparse fromTensors(String module, Map<String, ?> d, Map<String, Tensor> t) {
        int[] s = Formats.shape(module, d);
        CompressedWeight base = Formats.fromTensors(module, Formats.map(module, d, "base"), t);
        CsrSparse sp = CsrSparse.sparsePart(module, s, Formats.integer(module, d, "nnz"), t);
        try {
            return new DenseAndSparse(base, sp);
        } catch (IllegalArgumentException e) {
            throw new ShrinkException("module '" + module + "': " + e.getMessage());
        }
    }
}
