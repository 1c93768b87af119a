package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plain low-rank factors (docs/methods/lowrank-lost.md §1, docs/methods/lowrank-lost.md §4 step 2): Ŵ = B·A with A = √Σ_r V_rᵀ (r, d_in) on the
 * input side and B = U_r √Σ_r (d_out, r) on the output side, the LoRA naming. y = B·(A·x).
 * Bits per weight = 16·r·(d_in + d_out)/(d_in·d_out) for F16 factors.
 *
 * <p>Stored tensors: {@code .lr_a} (r, d_in), {@code .lr_b} (d_out, r), F32/F16/BF16.
 *
 * @param a (r, d_in)
 * @param b (d_out, r)
 */
public record LowRank(DenseWeight a, DenseWeight b) implements CompressedWeight {
    public static final String FORMAT = "low_rank";

    public LowRank {
        if (a.dOut() != b.dIn()) {
            throw new IllegalArgumentException("A is (" + a.dOut() + ", " + a.dIn() + ") but B is (" + b.dOut() + ", " + b.dIn() + "): ranks differ");
        }
    }

    public int rank() {
        return a.dOut();
    }

    @Override public int dOut() {
        return b.dOut();
    }

    @Override public int dIn() {
        return a.dIn();
    }

    @Override public String format() {
        return FORMAT;
    }

    @Override public void dequantizeRow(int j, float[] dst, int off) {
        int r = rank(), n = dIn();
        float[] bj = new float[r];
        float[] ak = new float[n];
        b.dequantizeRow(j, bj, 0);
        java.util.Arrays.fill(dst, off, off + n, 0f);
        for (int k = 0; k < r; k++) {
            a.dequantizeRow(k, ak, 0);
            float c = bj[k];
            for (int i = 0; i < n; i++) dst[off + i] += c * ak[i];
        }
    }

    @Override public void matvec(float[] x, float[] y, FormatKernels k) {
        float[] t = new float[rank()];
        a.matvec(x, t, k);
        b.matvec(t, y, k);
    }

    @Override public void matmul(float[] x, int m, float[] y, FormatKernels k) {
        float[] t = new float[Math.multiplyExact(m, rank())];
        a.matmul(x, m, t, k);
        b.matmul(t, m, y, k);
    }

    @Override public long payloadBytes() {
        return a.payloadBytes() + b.payloadBytes();
    }

    @Override public long storageBytes() {
        return a.storageBytes() + b.storageBytes();
    }

    @Override public Map<String, Tensor> toTensors(String module) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put(module + ".lr_a", a.weight());
        m.put(module + ".lr_b", b.weight());
        return m;
    }

    @Override public Map<String, Object> descriptor() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("format", FORMAT);
        d.put("shape", List.of(dOut(), dIn()));
        d.put("rank", rank());
        return d;
    }

    static LowRank fromTensors(String module, Map<String, ?> d, Map<String, Tensor> t) {
        int[] s = Formats.shape(module, d);
        int r = Formats.integer(module, d, "rank");
        return new LowRank(DenseWeight.named(t, module + ".lr_a", r, s[1]), DenseWeight.named(t, module + ".lr_b", s[0], r));
    }
}
