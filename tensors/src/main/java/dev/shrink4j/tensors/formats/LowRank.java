package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plain low-rank factors (docs/methods/lowrank-lost.md §1, docs/methods/lowrank-lost.md §4 step 2): Ŵ = B·A with A = √Σ_r V_rᵀ (r, d_in) on the
 * input side and B = U_r √Σ_r (d_out, r) on the output side, the LoRA naming. y = B·(A·x).
 * Bits per weight = 16·r·(d_in + d_out)/(d_in·d_out) for F16 factors.
 *
 * <p>Stored tensors: {@code .lr_a} (r, d_in), {@code .lr_b} (d_out, r), F32/F16/BF16. A factor may
 * itself be uniformly quantized ({@link UniformQuantized}, e.g. int4 with groups along its own input:
 * d_in for A, r for B); then it is stored as that format under the factor's name ({@code .lr_a.qweight},
 * {@code .lr_a.scales}, …) and the descriptor names its format in {@code "factors": {"a": {…}, "b": {…}}}
 * (absent when both factors are dense, so older files read unchanged). The products run through the
 * factors' own kernels: y = B·(A·x) with A and B dense or uniform.
 *
 * @param a (r, d_in), {@link DenseWeight} or {@link UniformQuantized}
 * @param b (d_out, r), {@link DenseWeight} or {@link UniformQuantized}
 */
public record LowRank(CompressedWeight a, CompressedWeight b) implements CompressedWeight {
    public static final String FORMAT = "low_rank";

    public LowRank {
        if (!factorFormat(a) || !factorFormat(b)) {
            throw new IllegalArgumentException("low-rank factors must be dense or uniform, got " + a.format() + " and " + b.format());
        }
        if (a.dOut() != b.dIn()) {
            throw new IllegalArgumentException("A is (" + a.dOut() + ", " + a.dIn() + ") but B is (" + b.dOut() + ", " + b.dIn() + "): ranks differ");
        }
    }

    static boolean factorFormat(CompressedWeight f) {
        return f instanceof DenseWeight || f instanceof UniformQuantized;
    }

    /** Whether either factor is quantized (then the descriptor names the factors' formats). */
    public boolean quantized() {
        return !(a instanceof DenseWeight && b instanceof DenseWeight);
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
        factorTensors(m, module + ".lr_a", a);
        factorTensors(m, module + ".lr_b", b);
        return m;
    }

    @Override public Map<String, Object> descriptor() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("format", FORMAT);
        d.put("shape", List.of(dOut(), dIn()));
        d.put("rank", rank());
        describeFactors(d);
        return d;
    }

    /** Adds {@code "factors"} to a descriptor (this format's or LOST's) when a factor is quantized. */
    void describeFactors(Map<String, Object> d) {
        if (quantized()) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("a", a.descriptor());
            f.put("b", b.descriptor());
            d.put("factors", f);
        }
    }

    /** A dense factor is one tensor named {@code name}; a uniform one its tensors under {@code name.}. */
    static void factorTensors(Map<String, Tensor> m, String name, CompressedWeight f) {
        if (f instanceof DenseWeight dw) m.put(name, dw.weight());
        else m.putAll(f.toTensors(name));
    }

    static LowRank fromTensors(String module, Map<String, ?> d, Map<String, Tensor> t) {
        int[] s = Formats.shape(module, d);
        int r = Formats.integer(module, d, "rank");
        if (r <= 0) throw new ShrinkException("module '" + module + "': rank must be positive, found " + r);
        if (d.get("factors") == null) {
            return new LowRank(DenseWeight.named(t, module + ".lr_a", r, s[1]), DenseWeight.named(t, module + ".lr_b", s[0], r));
        }
        Map<String, ?> f = Formats.map(module, d, "factors");
        return new LowRank(part(module, "lr_a", Formats.map(module, f, "a"), t, r, s[1]), part(module, "lr_b", Formats.map(module, f, "b"), t, s[0], r));
    }

    /**
     * One factor (or LOST's column values, {@code which} = "col_values") from its own descriptor: only dense or uniform (no nesting of composed formats), and of
     * exactly the shape the rank and the layer imply.
     */
    static CompressedWeight part(String module, String which, Map<String, ?> d, Map<String, Tensor> t, int rows, int cols) {
        String name = module + "." + which;
        String format = Formats.string(name, d, "format");
        int[] s = Formats.shape(name, d);
        if (s[0] != rows || s[1] != cols) {
            throw new ShrinkException("module '" + module + "': factor " + which + " must be (" + rows + ", " + cols + "), its descriptor says ("
                    + s[0] + ", " + s[1] + ")");
        }
        return switch (format) {
            case DenseWeight.FORMAT -> DenseWeight.named(t, name, rows, cols);
            case UniformQuantized.FORMAT -> UniformQuantized.fromTensors(name, d, t);
            default -> throw new ShrinkException("module '" + module + "': factor " + which + " has format '" + format + "'; expected dense or uniform");
        };
    }
}
