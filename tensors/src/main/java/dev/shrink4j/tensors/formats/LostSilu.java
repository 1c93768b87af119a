package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * LOST as trained (docs/methods/lowrank-lost.md §7, METHODS §7.1 step 6): y = γ·B·SiLU(A·x) + (1 − γ)·W_s·x_I.
 * The SiLU between the factors makes the layer non-linear in x, so unlike every other format it has
 * no dense Ŵ: {@link #dequantizeRow} refuses (methods that read weights cannot take it; {@code eval}
 * and {@code generate} run it through {@link #matmul}). Written by {@code shrink4j train
 * --parameterization lost}.
 *
 * <p>Stored tensors as {@link LowRankColumnSparse}: {@code .lr_a} (r, d_in), {@code .lr_b} (d_out, r),
 * {@code .cols} I32 (c), {@code .col_values} (d_out, c); descriptor keys {@code rank}, {@code columns},
 * {@code gamma}, {@code activation} ("silu").
 *
 * @param gamma the blend γ in (0, 1]
 */
public record LostSilu(LowRank lowRank, Tensor cols, CompressedWeight colValues, double gamma) implements CompressedWeight {
    public static final String FORMAT = "lost_silu";

    public LostSilu {
        if (!(gamma > 0 && gamma <= 1)) throw new IllegalArgumentException("gamma must be in (0, 1], got " + gamma);
        // The same column checks as the post-training form.
        new LowRankColumnSparse(lowRank, cols, colValues);
    }

    public int columns() {
        return colValues.dIn();
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
        throw new ShrinkException("a LOST layer with SiLU between its factors has no dense weight (format " + FORMAT
                + "); methods that read weights cannot take it, eval and generate can");
    }

    @Override public void matvec(float[] x, float[] y, FormatKernels k) {
        matmul(x, 1, y, k);
    }

    @Override public void matmul(float[] x, int m, float[] y, FormatKernels k) {
        int r = lowRank.rank(), n = dIn(), dOut = dOut(), c = columns();
        float[] z = new float[Math.multiplyExact(m, r)];
        lowRank.a().matmul(x, m, z, k);
        for (int i = 0; i < z.length; i++) z[i] = (float) (z[i] / (1.0 + Math.exp(-z[i])));
        lowRank.b().matmul(z, m, y, k);
        int[] ids = new LowRankColumnSparse(lowRank, cols, colValues).columnIds();
        float[] xi = new float[Math.multiplyExact(m, c)];
        for (int row = 0; row < m; row++) {
            for (int t = 0; t < c; t++) xi[row * c + t] = x[row * n + ids[t]];
        }
        float[] ys = new float[Math.multiplyExact(m, dOut)];
        colValues.matmul(xi, m, ys, k);
        float g = (float) gamma, s = (float) (1 - gamma);
        for (int p = 0; p < m * dOut; p++) y[p] = g * y[p] + s * ys[p];
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
        LowRankColumnSparse.describeColumnValues(d, colValues);
        d.put("gamma", gamma);
        d.put("activation", "silu");
        return d;
    }

    static LostSilu fromTensors(String module, Map<String, ?> d, Map<String, Tensor> t) {
        int[] s = Formats.shape(module, d);
        int c = Formats.integer(module, d, "columns");
        Object act = d.get("activation");
        if (!"silu".equals(act)) throw new ShrinkException("module '" + module + "': " + FORMAT + " needs activation \"silu\", found " + act);
        if (!(d.get("gamma") instanceof Number g)) throw new ShrinkException("module '" + module + "': descriptor key 'gamma' must be a number");
        LowRank lr = LowRank.fromTensors(module, d, t);
        Tensor ids = Formats.require(t, module + ".cols", Set.of(DType.I32), c);
        CompressedWeight v = LowRankColumnSparse.columnValues(module, d, t, s[0], c);
        return new LostSilu(lr, ids, v, g.doubleValue());
    }
}
