package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * N:M semi-structured sparsity with uniformly quantized kept values (SparseGPT 2:4 then GPTQ/RTN int4,
 * docs/formats.md "nm_uniform"): the positions are {@link NmSparse}'s packed ceil(log2 M)-bit indices, and
 * the kept values, read as a compact (d_out, d_in·N/M) matrix V, are {@link UniformQuantized}: b-bit codes
 * in groups of G consecutive kept values of a row (G kept values span G·M/N input columns), F16 scales,
 * zero points unless symmetric. ŵ[j, col(j, t)] = s[j, g]·(q[j, t] − z[j, g]) with g = ⌊t/G⌋, every other
 * weight 0. Bits per weight for 2:4, int4, G = 32, symmetric: (4 + 2 + 16/32)·N/M = 3.25.
 *
 * <p>Stored tensors: {@code .nm_indices} U8 (d_out, ceil(d_in·N/M·ib/8)) as {@link NmSparse};
 * {@code .nm_values.qweight} U8 (d_out, ceil(d_in·N/M·b/8)), {@code .nm_values.scales} F16
 * (d_out, n_groups), {@code .nm_values.zeros} U8 (asymmetric only), as {@link UniformQuantized}
 * (no act-order). Descriptor keys: {@code shape}, {@code n}, {@code m}, {@code bits},
 * {@code group_size}, {@code symmetric}.
 *
 * @param values  the kept values, (d_out, d_in·N/M), static groups
 * @param indices U8 (d_out, ceil(d_in·N/M·ib/8))
 */
public record NmQuantized(int n, int m, UniformQuantized values, Tensor indices) implements CompressedWeight {
    public static final String FORMAT = "nm_uniform";

    public NmQuantized {
        if (n <= 0 || n >= m) throw new IllegalArgumentException("N:M needs 0 < N < M; got " + n + ":" + m);
        if (values.dIn() % n != 0) throw new IllegalArgumentException("kept values per row " + values.dIn() + " are not a multiple of N = " + n);
        if (values.gIdx() != null) throw new IllegalArgumentException("quantized N:M values take static groups (no act-order g_idx)");
        NmSparse.checkIndices(values.dOut(), Math.multiplyExact(values.dIn() / n, m), n, m, indices);
    }

    /**
     * Packs the kept values {@code vals} (d_out, d_in·N/M) and positions {@code idx} (as {@link NmSparse#compact}
     * gives them) with RTN (docs/methods/rtn-gptq.md §1) in groups of {@code groupSize} kept values.
     */
    public static NmQuantized rtn(Arena arena, int dOut, int dIn, int n, int m, float[] vals, int[] idx, int bits, int groupSize, boolean symmetric) {
        int kept = dIn / m * n;
        return new NmQuantized(n, m, UniformQuantized.rtn(arena, vals, dOut, kept, bits, groupSize, symmetric), NmSparse.packIndices(arena, dOut, dIn, n, m, idx));
    }

    /** From already quantized kept values (d_out, d_in·N/M) and their positions idx (d_out·d_in·N/M). */
    public static NmQuantized of(Arena arena, int dIn, int n, int m, UniformQuantized values, int[] idx) {
        return new NmQuantized(n, m, values, NmSparse.packIndices(arena, values.dOut(), dIn, n, m, idx));
    }

    @Override public int dOut() {
        return values.dOut();
    }

    @Override public int dIn() {
        return values.dIn() / n * m;
    }

    /** Kept values per row, d_in·N/M. */
    public int keptPerRow() {
        return values.dIn();
    }

    public long indexRowBytes() {
        return NmSparse.indexWidth(m).rowBytes(keptPerRow());
    }

    /** Row {@code j}'s absolute column numbers of its kept values, (d_in·N/M), Modified. */
    public void readColumns(int j, int[] cols) {
        NmSparse.readColumns(indices, j, keptPerRow(), n, m, cols);
    }

    @Override public String format() {
        return FORMAT;
    }

    @Override public void dequantizeRow(int j, float[] dst, int off) {
        int k = keptPerRow();
        float[] v = new float[k];
        int[] c = new int[k];
        values.dequantizeRow(j, v, 0);
        readColumns(j, c);
        java.util.Arrays.fill(dst, off, off + dIn(), 0f);
        for (int t = 0; t < k; t++) dst[off + c[t]] = v[t];
    }

    @Override public void matvec(float[] x, float[] y, FormatKernels k) {
        k.nmUniformMatvec(this, x, y);
    }

    @Override public void matmul(float[] x, int rows, float[] y, FormatKernels k) {
        k.nmUniformMatmul(this, x, rows, y);
    }

    @Override public long payloadBytes() {
        return values.payloadBytes();
    }

    @Override public long storageBytes() {
        return values.storageBytes() + indices.byteSize();
    }

    @Override public Map<String, Tensor> toTensors(String module) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put(module + ".nm_indices", indices);
        t.putAll(values.toTensors(module + ".nm_values"));
        return t;
    }

    @Override public Map<String, Object> descriptor() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("format", FORMAT);
        d.put("shape", List.of(dOut(), dIn()));
        d.put("n", n);
        d.put("m", m);
        d.put("bits", values.bits());
        d.put("group_size", values.groupSize());
        d.put("symmetric", values.symmetric());
        return d;
    }

    static NmQuantized fromTensors(String module, Map<String, ?> d, Map<String, Tensor> t) {
        int[] s = Formats.shape(module, d);
        int n = Formats.integer(module, d, "n");
        int m = Formats.integer(module, d, "m");
        if (n <= 0 || n >= m || s[0] <= 0 || s[1] <= 0 || s[1] % m != 0) {
            throw new ShrinkException("module '" + module + "': N:M needs 0 < N < M and d_in % M == 0; got " + n + ":" + m + " with shape " + List.of(s[0], s[1]));
        }
        NmSparse.indexWidth(m); // M = 4, 8 or 16, else the one-line refusal
        Map<String, Object> vd = new LinkedHashMap<>();
        vd.put("shape", List.of(s[0], s[1] / m * n));
        vd.put("bits", d.get("bits"));
        vd.put("group_size", d.get("group_size"));
        vd.put("symmetric", d.get("symmetric"));
        UniformQuantized v = UniformQuantized.fromTensors(module + ".nm_values", vd, t);
        Tensor ix = t.get(module + ".nm_indices");
        if (ix == null) throw new ShrinkException("missing tensor '" + module + ".nm_indices'");
        return new NmQuantized(n, m, v, ix);
    }
}
