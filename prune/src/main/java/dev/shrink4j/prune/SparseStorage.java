package dev.shrink4j.prune;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Floats;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CsrSparse;
import dev.shrink4j.tensors.formats.NmSparse;
import java.lang.foreign.Arena;

/**
 * Storage of pruned matrices in the sparse formats. Kept values are stored as docs/formats.md says:
 * F16, or BF16 when the source weight is BF16 (F16 would round away its range), or F32 only when a
 * value lies beyond F16's range. {@link #valueType} names that dtype so a caller can round its
 * in-memory copy to it, making the stored model exactly the pruned model.
 */
public final class SparseStorage {
    /** The smallest magnitude F16 rounds to infinity (65504 is its largest finite value). */
    private static final float F16_OVERFLOW = 65520f;

    private SparseStorage() {}

    /**
     * The dtype kept values of a matrix from a {@code source}-typed weight are stored in.
     *
     * @param w the pruned matrix (any shape); only its magnitudes are read
     */
    public static DType valueType(DType source, float[] w) {
        if (source == DType.BF16) {
            return DType.BF16;
        }
        for (float v : w) {
            if (Math.abs(v) >= F16_OVERFLOW) {
                return DType.F32;
            }
        }
        return DType.F16;
    }

    /** Rounds {@code w} in place to {@code dtype} (F32: unchanged), as storing and re-reading it would. */
    public static void round(float[] w, DType dtype) {
        switch (dtype) {
            case F32 -> { }
            case F16 -> {
                for (int i = 0; i < w.length; i++) {
                    w[i] = Floats.f16ToF32(Floats.f32ToF16(w[i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < w.length; i++) {
                    w[i] = Floats.bf16ToF32(Floats.f32ToBf16(w[i]));
                }
            }
            default -> throw new IllegalArgumentException("values are stored as F32, F16 or BF16, not " + dtype);
        }
    }

    /**
     * Bytes of the stored linears against the same linears dense in the source's dtype; a sparse
     * output can be larger (CSR costs 6 bytes per kept F16 value, so above 1/3 density it loses to BF16).
     */
    public record Bytes(long stored, long dense) {
        public static final Bytes ZERO = new Bytes(0, 0);

        public Bytes plus(long storedBytes, long denseBytes) {
            return new Bytes(stored + storedBytes, dense + denseBytes);
        }

        /** True when the stored linears take more bytes than the dense input's. */
        public boolean larger() {
            return stored > dense;
        }

        /** One line for the user when {@link #larger()}, else empty. */
        public String warning() {
            return !larger() ? "" : String.format(java.util.Locale.ROOT,
                    "warning: the pruned linears take %,d B, more than the %,d B of the dense input (%.2f×); "
                            + "at this sparsity dense storage is smaller", stored, dense, (double) stored / dense);
        }
    }

    /**
     * CSR of the non-zeros of w, values as {@link #valueType}.
     *
     * @param w (d_out, d_in) row-major; Modified: rounded to the stored value dtype, so that a model
     *          running on it is the stored model
     * @param dtype the source weight's dtype
     */
    public static CsrSparse csr(Arena arena, float[] w, int dOut, int dIn, DType dtype) {
        DType vt = valueType(dtype, w);
        round(w, vt);
        return CsrSparse.fromDense(arena, w, dOut, dIn, vt);
    }

    /**
     * N:M packing of an N:M-sparse w (runs with fewer than N non-zeros store explicit zeros).
     *
     * @param w (d_out, d_in) row-major, at most N non-zeros in every run of M; Modified: rounded to the
     *          stored value dtype
     * @param dtype the source weight's dtype; values are stored as {@link #valueType}
     */
    public static NmSparse nm(Arena arena, float[] w, int dOut, int dIn, NmPattern p, DType dtype) {
        p.checkColumns(dIn, "N:M storage");
        DType vt = valueType(dtype, w);
        round(w, vt);
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
        return new NmSparse(dOut, dIn, p.n(), p.m(), values(arena, Shape.of(dOut, k), vals, vt), packed.indices());
    }

    private static Tensor values(Arena arena, Shape shape, float[] vals, DType dtype) {
        Tensor v = Tensor.ofFloats(arena, shape, vals);
        return dtype == DType.F32 ? v : v.convert(arena, dtype);
    }
}
