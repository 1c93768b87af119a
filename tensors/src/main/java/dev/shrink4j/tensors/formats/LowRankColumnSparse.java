package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * LOST, post-training form (docs/methods/lowrank-lost.md §6, σ = identity): Ŵ = B·A + scatter_I(S), where I holds c
 * kept input columns (ascending) and S (d_out, c) their values; any blend γ is folded into B and S
 * by the method. y = B·(A·x) + S·x_I. Parameters r(d_in + d_out) + c·d_out values + c int32 ids (docs/methods/lowrank-lost.md §5).
 *
 * <p>Stored tensors: {@code .lr_a} (r, d_in), {@code .lr_b} (d_out, r), {@code .cols} I32 (c),
 * {@code .col_values} (d_out, c); factors and values F32/F16/BF16.
 *
 * @param cols      I32 (c), strictly increasing input column ids
 * <p>The kept columns' values may be uniformly quantized like the factors (stored under
 * {@code .col_values.qweight}, …, descriptor key {@code "col_values"} with their uniform descriptor).
 *
 * @param colValues (d_out, c), {@link DenseWeight} or {@link UniformQuantized}
 */
public record LowRankColumnSparse(LowRank lowRank, Tensor cols, CompressedWeight colValues) implements CompressedWeight {
    public static final String FORMAT = "low_rank_column_sparse";

    public LowRankColumnSparse {
        if (!LowRank.factorFormat(colValues)) throw new IllegalArgumentException("col_values must be dense or uniform, got " + colValues.format());
        int c = colValues.dIn();
        Formats.checkTensor("cols", cols, Set.of(DType.I32), c);
        if (colValues.dOut() != lowRank.dOut()) {
            throw new IllegalArgumentException("col_values has " + colValues.dOut() + " rows, low-rank part " + lowRank.dOut());
        }
        int prev = -1;
        for (int k = 0; k < c; k++) {
            int i = cols.segment().getAtIndex(Tensor.I32, k);
            if (i <= prev || i >= lowRank.dIn()) {
                throw new IllegalArgumentException("cols[" + k + "] = " + i + " not increasing or outside [0, " + lowRank.dIn() + ")");
            }
            prev = i;
        }
    }

    /** From the factors and the kept columns (ascending ids, F32 values (d_out·c) stored in {@code valueType}). */
    public static LowRankColumnSparse of(Arena arena, LowRank lowRank, int[] cols, float[] values, DType valueType) {
        Tensor ids = Tensor.allocate(arena, DType.I32, Shape.of(cols.length));
        MemorySegment.copy(cols, 0, ids.segment(), Tensor.I32, 0, cols.length);
        Tensor v = Tensor.allocate(arena, valueType, Shape.matrix(lowRank.dOut(), cols.length));
        v.writeFloats(0, values, 0, values.length);
        return new LowRankColumnSparse(lowRank, ids, new DenseWeight(v));
    }

    /** Number of kept columns c. */
    public int columns() {
        return colValues.dIn();
    }

    public int[] columnIds() {
        // Element by element: a mapped checkpoint may place this I32 tensor at an offset that is not a multiple
        // of 4 (after U8 codes), which a bulk copy with an aligned layout refuses.
        int[] ids = new int[columns()];
        for (int k = 0; k < ids.length; k++) ids[k] = cols.segment().getAtIndex(Tensor.I32, k);
        return ids;
    }

    @Override public int dOut() {
        return lowRank.dOut();
    }

    @Override public int dIn() {
        return lowRank.dIn();
    }

    @Override public String format() {
        return FORMAT;
    }

    @Override public void dequantizeRow(int j, float[] dst, int off) {
        lowRank.dequantizeRow(j, dst, off);
        float[] s = new float[columns()];
        colValues.dequantizeRow(j, s, 0);
        int[] ids = columnIds();
        for (int k = 0; k < ids.length; k++) dst[off + ids[k]] += s[k];
    }

    @Override public void matvec(float[] x, float[] y, FormatKernels k) {
        lowRank.matvec(x, y, k);
        int[] ids = columnIds();
        float[] xi = new float[ids.length];
        for (int t = 0; t < ids.length; t++) xi[t] = x[ids[t]];
        float[] ys = new float[dOut()];
        colValues.matvec(xi, ys, k);
        for (int j = 0; j < ys.length; j++) y[j] += ys[j];
    }

    @Override public void matmul(float[] x, int m, float[] y, FormatKernels k) {
        lowRank.matmul(x, m, y, k);
        int[] ids = columnIds();
        int c = ids.length, n = dIn(), dOut = dOut();
        float[] xi = new float[Math.multiplyExact(m, c)];
        for (int r = 0; r < m; r++) {
            for (int t = 0; t < c; t++) xi[r * c + t] = x[r * n + ids[t]];
        }
        float[] ys = new float[Math.multiplyExact(m, dOut)];
        colValues.matmul(xi, m, ys, k);
        for (int p = 0; p < ys.length; p++) y[p] += ys[p];
    }

    @Override public long payloadBytes() {
        return lowRank.payloadBytes() + colValues.payloadBytes();
    }

    @Override public long storageBytes() {
        return lowRank.storageBytes() + colValues.storageBytes() + cols.byteSize();
    }

    @Override public Map<String, Tensor> toTensors(String module) {
        Map<String, Tensor> m = new LinkedHashMap<>(lowRank.toTensors(module));
        m.put(module + ".cols", cols);
        LowRank.factorTensors(m, module + ".col_values", colValues);
        return m;
    }

    @Override public Map<String, Object> descriptor() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("format", FORMAT);
        d.put("shape", List.of(dOut(), dIn()));
        d.put("rank", lowRank.rank());
        d.put("columns", columns());
        lowRank.describeFactors(d);
        describeColumnValues(d, colValues);
        return d;
    }

    static LowRankColumnSparse fromTensors(String module, Map<String, ?> d, Map<String, Tensor> t) {
        int[] s = Formats.shape(module, d);
        int c = Formats.integer(module, d, "columns");
        LowRank lr = LowRank.fromTensors(module, d, t);
        Tensor ids = Formats.require(t, module + ".cols", Set.of(DType.I32), c);
        CompressedWeight v = columnValues(module, d, t, s[0], c);
        try {
            return new LowRankColumnSparse(lr, ids, v);
        } catch (IllegalArgumentException e) {
            throw new ShrinkException("module '" + module + "': " + e.getMessage());
        }
    }

    /** Adds {@code "col_values"} (their uniform descriptor) when the column values are quantized. */
    static void describeColumnValues(Map<String, Object> d, CompressedWeight colValues) {
        if (!(colValues instanceof DenseWeight)) d.put("col_values", colValues.descriptor());
    }

    /** The column values (d_out, c): dense under {@code .col_values}, or as the descriptor's {@code "col_values"} says. */
    static CompressedWeight columnValues(String module, Map<String, ?> d, Map<String, Tensor> t, int dOut, int c) {
        if (d.get("col_values") == null) return DenseWeight.named(t, module + ".col_values", dOut, c);
        return LowRank.part(module, "col_values", Formats.map(module, d, "col_values"), t, dOut, c);
    }
}
