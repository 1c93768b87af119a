package dev.shrink4j.prune;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CsrSparse;
import dev.shrink4j.tensors.formats.NmSparse;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Storage of pruned matrices in the sparse formats with their values kept in the source weight's
 * dtype (the formats' own builders store F16), so the stored model is exactly the pruned model.
 */
public final class SparseStorage {
    private SparseStorage() {}

    /**
     * CSR of the non-zeros of w.
     *
     * @param w (d_out, d_in) row-major
     */
    public static CsrSparse csr(Arena arena, float[] w, int dOut, int dIn, DType dtype) {
        int nnz = 0;
        int[] rowptr = new int[dOut + 1];
        for (int j = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) {
                if (w[j * dIn + i] != 0f) {
                    nnz++;
                }
            }
            rowptr[j + 1] = nnz;
        }
        int[] cols = new int[nnz];
        float[] vals = new float[nnz];
        for (int j = 0, q = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) {
                if (w[j * dIn + i] != 0f) {
                    cols[q] = i;
                    vals[q++] = w[j * dIn + i];
                }
            }
        }
        Tensor v = values(arena, Shape.of(nnz), vals, dtype);
        Tensor c = Tensor.allocate(arena, DType.I32, Shape.of(nnz));
        MemorySegment.copy(cols, 0, c.segment(), Tensor.I32, 0, nnz);
        Tensor r = Tensor.allocate(arena, DType.I32, Shape.of(dOut + 1));
        MemorySegment.copy(rowptr, 0, r.segment(), Tensor.I32, 0, dOut + 1);
        return new CsrSparse(dOut, dIn, v, c, r);
    }

    /**
     * N:M packing of an N:M-sparse w (runs with fewer than N non-zeros store explicit zeros).
     *
     * @param w (d_out, d_in) row-major, at most N non-zeros in every run of M
     */
    public static NmSparse nm(Arena arena, float[] w, int dOut, int dIn, NmPattern p, DType dtype) {
        p.checkColumns(dIn, "N:M storage");
        NmSparse packed = NmSparse.fromDense(arena, w, dOut, dIn, p.n(), p.m());
        int k = packed.keptPerRow();
        float[] vals = new float[dOut * k];
        float[] row = new float[k];
        int[] cols = new int[k];
        for (int j = 0; j < dOut; j++) {
            packed.readRow(j, row, cols);
            for (int t = 0; t < k; t++) {
                vals[j * k + t] = w[j * dIn + cols[t]];
            }
        }
        return new NmSparse(dOut, dIn, p.n(), p.m(), values(arena, Shape.of(dOut, k), vals, dtype), packed.indices());
    }

    private static Tensor values(Arena arena, Shape shape, float[] vals, DType dtype) {
        Tensor v = Tensor.ofFloats(arena, shape, vals);
        return dtype == DType.F32 ? v : v.convert(arena, dtype);
    }
}
