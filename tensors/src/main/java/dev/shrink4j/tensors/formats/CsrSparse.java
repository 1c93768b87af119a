package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compressed sparse rows (docs/methods/pqi-requant.md §6): row j's non-zeros are values[rowptr[j] .. rowptr[j+1]) at
 * columns indices[…], strictly increasing within a row. About 48 bits per non-zero plus
 * 32·(d_out + 1) for the row pointers.
 *
 * <p>Stored tensors: {@code .sparse_values} F16 (nnz) — BF16 when the source weight is BF16, F32 only
 * when a value is beyond F16's range —, {@code .sparse_indices} I32 (nnz), {@code .sparse_rowptr} I32
 * (d_out + 1). The descriptor names the values' dtype ({@code "values_dtype"}); descriptors written
 * before it existed have none and their values are read in whatever float dtype the tensor has
 * (F32 in checkpoints of shrink4j 0.1's prune).
 *
 * @param values  F16/BF16/F32 (nnz)
 * @param indices I32 (nnz)
 * @param rowptr  I32 (d_out + 1)
 */
public record CsrSparse(int dOut, int dIn, Tensor values, Tensor indices, Tensor rowptr) implements CompressedWeight {
    public static final String FORMAT = "csr";

    public CsrSparse {
        long nnz = values.numel();
        Formats.checkTensor("sparse_values", values, Formats.FLOAT_TYPES, nnz);
        Formats.checkTensor("sparse_indices", indices, Set.of(DType.I32), nnz);
        Formats.checkTensor("sparse_rowptr", rowptr, Set.of(DType.I32), dOut + 1L);
        MemorySegment rp = rowptr.segment();
        MemorySegment ix = indices.segment();
        if (rp.getAtIndex(Tensor.I32, 0) != 0 || rp.getAtIndex(Tensor.I32, dOut) != nnz) {
            throw new IllegalArgumentException("sparse_rowptr must run from 0 to nnz = " + nnz);
        }
        for (int j = 0; j < dOut; j++) {
            int a = rp.getAtIndex(Tensor.I32, j), b = rp.getAtIndex(Tensor.I32, j + 1);
            if (b < a) {
                throw new IllegalArgumentException("sparse_rowptr decreases at row " + j);
            }
            int prev = -1;
            for (int p = a; p < b; p++) {
                int c = ix.getAtIndex(Tensor.I32, p);
                if (c <= prev || c >= dIn) {
                    throw new IllegalArgumentException("row " + j + ": column " + c + " out of order or outside [0, " + dIn + ")");
                }
                prev = c;
            }
        }
    }

    /** Number of stored non-zeros. */
    public int nnz() {
        return (int) values.numel();
    }

    public int rowStart(int j) {
        return rowptr.segment().getAtIndex(Tensor.I32, j);
    }

    public int column(int p) {
        return indices.segment().getAtIndex(Tensor.I32, p);
    }

    /** CSR of the non-zeros of a row-major (d_out·d_in) matrix, values stored as F16. */
    public static CsrSparse fromDense(Arena arena, float[] w, int dOut, int dIn) {
        return fromDense(arena, w, dOut, dIn, DType.F16);
    }

    /** As above, values stored as {@code valueType} (F16, BF16 or F32). */
    public static CsrSparse fromDense(Arena arena, float[] w, int dOut, int dIn, DType valueType) {
        int[] rowptr = new int[dOut + 1];
        int nnz = 0;
        for (int j = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) if (w[j * dIn + i] != 0) nnz++;
            rowptr[j + 1] = nnz;
        }
        int[] cols = new int[nnz];
        float[] vals = new float[nnz];
        for (int j = 0, p = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) {
                if (w[j * dIn + i] != 0) {
                    cols[p] = i;
                    vals[p++] = w[j * dIn + i];
                }
            }
        }
        return of(arena, dOut, dIn, rowptr, cols, vals, valueType);
    }

    /** From CSR arrays; values are stored as F16. */
    public static CsrSparse of(Arena arena, int dOut, int dIn, int[] rowptr, int[] cols, float[] vals) {
        return of(arena, dOut, dIn, rowptr, cols, vals, DType.F16);
    }

    /** From CSR arrays, values stored as {@code valueType} (F16, BF16 or F32; rounded to nearest even). */
    public static CsrSparse of(Arena arena, int dOut, int dIn, int[] rowptr, int[] cols, float[] vals, DType valueType) {
        Tensor v = Tensor.allocate(arena, valueType, Shape.of(vals.length));
        v.writeFloats(0, vals, 0, vals.length);
        Tensor c = Tensor.allocate(arena, DType.I32, Shape.of(cols.length));
        MemorySegment.copy(cols, 0, c.segment(), Tensor.I32, 0, cols.length);
        Tensor r = Tensor.allocate(arena, DType.I32, Shape.of(rowptr.length));
        MemorySegment.copy(rowptr, 0, r.segment(), Tensor.I32, 0, rowptr.length);
        return new CsrSparse(dOut, dIn, v, c, r);
    }

    @Override public String format() {
        return FORMAT;
    }

    @Override public void dequantizeRow(int j, float[] dst, int off) {
        java.util.Arrays.fill(dst, off, off + dIn, 0f);
        addRow(j, dst, off);
    }

    /** Adds row {@code j}'s non-zeros into {@code dst[off..off+d_in)}. */
    public void addRow(int j, float[] dst, int off) {
        for (int p = rowStart(j), e = rowStart(j + 1); p < e; p++) {
            dst[off + column(p)] += values.getFloat(p);
        }
    }

    @Override public void matvec(float[] x, float[] y, FormatKernels k) {
        java.util.Arrays.fill(y, 0, dOut, 0f);
        k.csrMatvecAdd(this, x, y);
    }

    @Override public void matmul(float[] x, int m, float[] y, FormatKernels k) {
        float[] xr = new float[dIn];
        float[] yr = new float[dOut];
        for (int r = 0; r < m; r++) {
            System.arraycopy(x, r * dIn, xr, 0, dIn);
            matvec(xr, yr, k);
            System.arraycopy(yr, 0, y, r * dOut, dOut);
        }
    }

    @Override public long payloadBytes() {
        return values.byteSize() + indices.byteSize();
    }

    @Override public long storageBytes() {
        return values.byteSize() + indices.byteSize() + rowptr.byteSize();
    }

    @Override public Map<String, Tensor> toTensors(String module) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put(module + ".sparse_values", values);
        m.put(module + ".sparse_indices", indices);
        m.put(module + ".sparse_rowptr", rowptr);
        return m;
    }

    @Override public Map<String, Object> descriptor() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("format", FORMAT);
        d.put("shape", List.of(dOut, dIn));
        d.put("nnz", nnz());
        d.put("values_dtype", values.dtype().safetensorsName());
        return d;
    }

    static CsrSparse fromTensors(String module, Map<String, ?> d, Map<String, Tensor> t) {
        int[] s = Formats.shape(module, d);
        int nnz = Formats.integer(module, d, "nnz");
        CsrSparse c = sparsePart(module, s, nnz, t);
        if (d.containsKey("values_dtype")) {
            String named = Formats.string(module, d, "values_dtype");
            if (!named.equals(c.values.dtype().safetensorsName())) {
                throw new dev.shrink4j.tensors.ShrinkException("module '" + module + "': descriptor says values_dtype " + named
                        + " but " + module + ".sparse_values is " + c.values.dtype().safetensorsName());
            }
        }
        return c;
    }

    static CsrSparse sparsePart(String module, int[] s, int nnz, Map<String, Tensor> t) {
        Tensor v = Formats.require(t, module + ".sparse_values", Formats.FLOAT_TYPES, nnz);
        Tensor c = Formats.require(t, module + ".sparse_indices", Set.of(DType.I32), nnz);
        Tensor r = Formats.require(t, module + ".sparse_rowptr", Set.of(DType.I32), s[0] + 1L);
        try {
            return new CsrSparse(s[0], s[1], v, c, r);
        } catch (IllegalArgumentException e) {
            throw new dev.shrink4j.tensors.ShrinkException("module '" + module + "': " + e.getMessage());
        }
    }
}
