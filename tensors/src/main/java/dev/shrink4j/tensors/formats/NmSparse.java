package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * N:M semi-structured sparsity (2:4, 4:8, …): in every run of M consecutive input columns of a row
 * at most N weights are non-zero. Each kept value carries its position inside its run as a
 * ceil(log2 M)-bit index (2 bits for 2:4, 3 for 4:8), packed like {@link CodeWidth} codes; indices
 * inside a run are strictly increasing. Requires d_in % M == 0.
 *
 * <p>Stored tensors: {@code .nm_values} F16 (d_out, d_in·N/M); {@code .nm_indices} U8
 * (d_out, ceil(d_in·N/M·ib/8)).
 *
 * @param values  F16/BF16/F32 (d_out, d_in·N/M)
 * @param indices U8 (d_out, ceil(d_in·N/M·ib/8))
 */
public record NmSparse(int dOut, int dIn, int n, int m, Tensor values, Tensor indices) implements CompressedWeight {
    public static final String FORMAT = "nm";

    public NmSparse {
        if (n <= 0 || n >= m || dIn % m != 0) {
            throw new IllegalArgumentException("N:M needs 0 < N < M and d_in % M == 0; got " + n + ":" + m + " with d_in " + dIn);
        }
        long kept = (long) dIn / m * n;
        Formats.checkTensor("nm_values", values, Formats.FLOAT_TYPES, dOut, kept);
        checkIndices(dOut, dIn, n, m, indices);
    }

    /** The packed positions are U8 (d_out, ceil(d_in·N/M·ib/8)), each below M and strictly increasing inside its run. */
    static void checkIndices(int dOut, int dIn, int n, int m, Tensor indices) {
        CodeWidth iw = indexWidth(m);
        long kept = (long) dIn / m * n;
        Formats.checkTensor("nm_indices", indices, Set.of(DType.U8), dOut, iw.rowBytes(kept));
        int[] idx = new int[(int) kept];
        for (int j = 0; j < dOut; j++) {
            BitPacking.unpackRow(indices.segment(), j * iw.rowBytes(kept), (int) kept, iw.bits, idx);
            for (int t = 0; t < kept; t++) {
                if (idx[t] >= m || (t % n != 0 && idx[t] <= idx[t - 1])) {
                    throw new IllegalArgumentException("row " + j + ": N:M index " + idx[t] + " at " + t + " is out of order or ≥ " + m);
                }
            }
        }
    }

    /** Row {@code j}'s absolute column numbers of its kept values, (d_in·N/M). */
    static void readColumns(Tensor indices, int j, int keptPerRow, int n, int m, int[] cols) {
        CodeWidth iw = indexWidth(m);
        BitPacking.unpackRow(indices.segment(), j * iw.rowBytes(keptPerRow), keptPerRow, iw.bits, cols);
        for (int t = 0; t < keptPerRow; t++) cols[t] += (t / n) * m;
    }

    /** The positions of a row-major (d_out·d_in) N:M-sparse matrix's kept values, packed (see {@link #fromDense}). */
    static Tensor packIndices(Arena arena, int dOut, int dIn, int n, int m, int[] idx) {
        int kept = dIn / m * n;
        CodeWidth iw = indexWidth(m);
        Tensor ix = Tensor.allocate(arena, DType.U8, Shape.matrix(dOut, iw.rowBytes(kept)));
        for (int j = 0; j < dOut; j++) BitPacking.packRow(ix.segment(), j * iw.rowBytes(kept), kept, iw.bits, idx, j * kept);
        return ix;
    }

    /** Index width for runs of M: 2 bits for M = 4, 3 for M = 8, 4 for M = 16. */
    public static CodeWidth indexWidth(int m) {
        return switch (m) {
            case 4 -> CodeWidth.INT2;
            case 8 -> CodeWidth.INT3;
            case 16 -> CodeWidth.INT4;
            default -> throw new IllegalArgumentException("N:M supports M = 4, 8 or 16, got " + m);
        };
    }

    /** Kept values per row, d_in·N/M. */
    public int keptPerRow() {
        return dIn / m * n;
    }

    public long indexRowBytes() {
        return indexWidth(m).rowBytes(keptPerRow());
    }

    /** Row {@code j}'s kept values and their absolute column numbers. */
    public void readRow(int j, float[] vals, int[] cols) {
        int k = keptPerRow();
        values.readFloats((long) j * k, vals, 0, k);
        readColumns(indices, j, k, n, m, cols);
    }

    /**
     * Packs a row-major (d_out·d_in) matrix that is already N:M sparse (pruned entries are 0).
     * Runs with fewer than N non-zeros are padded with stored zeros; more than N is an error.
     */
    public static NmSparse fromDense(Arena arena, float[] w, int dOut, int dIn, int n, int m) {
        int kept = dIn / m * n;
        float[] vals = new float[dOut * kept];
        int[] idx = new int[dOut * kept];
        compact(w, dOut, dIn, n, m, vals, idx);
        return of(arena, dOut, dIn, n, m, vals, idx);
    }

    /**
     * The kept values (d_out, d_in·N/M) and their positions inside their runs of a row-major (d_out·d_in)
     * N:M-sparse matrix, into {@code vals} and {@code idx} (Modified); padding as {@link #fromDense}.
     */
    public static void compact(float[] w, int dOut, int dIn, int n, int m, float[] vals, int[] idx) {
        if (n <= 0 || n >= m || dIn % m != 0) {
            throw new IllegalArgumentException("N:M needs 0 < N < M and d_in % M == 0; got " + n + ":" + m + " with d_in " + dIn);
        }
        int kept = dIn / m * n;
        for (int j = 0; j < dOut; j++) {
            for (int g = 0; g < dIn / m; g++) {
                int base = j * dIn + g * m;
                int out = j * kept + g * n;
                int c = 0;
                for (int i = 0; i < m; i++) if (w[base + i] != 0) c++;
                if (c > n) {
                    throw new IllegalArgumentException("row " + j + ", columns " + g * m + ".." + (g * m + m - 1) + ": " + c + " non-zeros exceed " + n + ":" + m);
                }
                int pad = n - c; // fill with the first zero positions, keeping indices increasing
                int t = 0;
                for (int i = 0; i < m && t < n; i++) {
                    boolean nz = w[base + i] != 0;
                    if (nz || pad > 0) {
                        if (!nz) pad--;
                        vals[out + t] = w[base + i];
                        idx[out + t] = i;
                        t++;
                    }
                }
            }
        }
    }

    /** From arrays: vals and idx are (d_out·d_in·N/M), idx[t] the position inside its run of M. Values stored as F16. */
    public static NmSparse of(Arena arena, int dOut, int dIn, int n, int m, float[] vals, int[] idx) {
        int kept = dIn / m * n;
        Tensor v = Tensor.allocate(arena, DType.F16, Shape.matrix(dOut, kept));
        v.writeFloats(0, vals, 0, vals.length);
        return new NmSparse(dOut, dIn, n, m, v, packIndices(arena, dOut, dIn, n, m, idx));
    }

    @Override public String format() {
        return FORMAT;
    }

    @Override public void dequantizeRow(int j, float[] dst, int off) {
        int k = keptPerRow();
        float[] v = new float[k];
        int[] c = new int[k];
        readRow(j, v, c);
        java.util.Arrays.fill(dst, off, off + dIn, 0f);
        for (int t = 0; t < k; t++) dst[off + c[t]] = v[t];
    }

    @Override public void matvec(float[] x, float[] y, FormatKernels k) {
        k.nmMatvec(this, x, y);
    }

    @Override public void matmul(float[] x, int rows, float[] y, FormatKernels k) {
        k.nmMatmul(this, x, rows, y);
    }

    @Override public long payloadBytes() {
        return values.byteSize();
    }

    @Override public long storageBytes() {
        return values.byteSize() + indices.byteSize();
    }

    @Override public Map<String, Tensor> toTensors(String module) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(module + ".nm_values", values);
        t.put(module + ".nm_indices", indices);
        return t;
    }

    @Override public Map<String, Object> descriptor() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("format", FORMAT);
        d.put("shape", List.of(dOut, dIn));
        d.put("n", n);
        d.put("m", m);
        return d;
    }

    static NmSparse fromTensors(String module, Map<String, ?> d, Map<String, Tensor> t) {
        int[] s = Formats.shape(module, d);
        int n = Formats.integer(module, d, "n");
        int m = Formats.integer(module, d, "m");
        try {
            long kept = (long) s[1] / m * n;
            Tensor v = Formats.require(t, module + ".nm_values", Formats.FLOAT_TYPES, s[0], kept);
            Tensor ix = Formats.require(t, module + ".nm_indices", Set.of(DType.U8), s[0], indexWidth(m).rowBytes(kept));
            return new NmSparse(s[0], s[1], n, m, v, ix);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ShrinkException("module '" + module + "': " + e.getMessage());
        }
    }
}
