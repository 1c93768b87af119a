package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.Floats;

/**
 * The affine grid of docs/methods/rtn-gptq.md §1 for one group of one row, and round-to-nearest over
 * a whole matrix: the one RTN of the project ({@link UniformQuantized#rtn} packs its codes; the
 * quantize module's {@code Rtn} and GPTQ use the same grid). The range is widened to include 0; the
 * scale is rounded to the F16 value the format stores (so the codes are chosen against exactly what is
 * stored), capped at the F16 maximum (a larger scale would be stored as +inf) and floored at the
 * smallest positive F16 (a scale never rounds to 0); the zero point is an integer in [0, 2^b).
 */
public final class UniformGrid {
    /** Smallest positive F16 (subnormal). */
    private static final float MIN_F16 = 0x1p-24f;
    /** Largest finite F16. */
    private static final float MAX_F16 = 65504f;

    private UniformGrid() {}

    /** Codes are held in one byte: 1 ≤ b ≤ 8. */
    public static void checkBits(int bits) {
        if (bits < 1 || bits > 8) {
            throw new IllegalArgumentException("bits must be in 1..8, got " + bits);
        }
    }

    /** Largest code, 2^b − 1. */
    public static int maxq(int bits) {
        return (1 << bits) - 1;
    }

    /**
     * Writes scale and zero for a group with the given (unwidened) value range.
     *
     * @param out receives {scale, zero}; Modified
     */
    public static void fit(float min, float max, int bits, boolean symmetric, float[] out) {
        float lo = Math.min(0f, min);
        float hi = Math.max(0f, max);
        if (lo == 0f && hi == 0f) {
            lo = -1f;
            hi = 1f;
        }
        int maxq = maxq(bits);
        float scale;
        float zero;
        if (symmetric) {
            float a = Math.max(-lo, hi);
            scale = toF16(2f * a / maxq);
            zero = 1 << (bits - 1);
        } else {
            scale = toF16((hi - lo) / maxq);
            zero = (float) Math.clamp(Math.rint(-lo / scale), 0, maxq);
        }
        out[0] = scale;
        out[1] = zero;
    }

    /** A positive scale as stored: rounded to F16, within [smallest positive F16, 65504]. */
    public static float toF16(float s) {
        float r = Floats.f16ToF32(Floats.f32ToF16(Math.min(s, MAX_F16)));
        return Math.max(r, MIN_F16);
    }

    /** x rounded to the nearest F16 value (a LUT entry), sign kept, saturating at ±65504. */
    public static float toF16Signed(float x) {
        return Floats.f16ToF32(Floats.f32ToF16(Math.clamp(x, -MAX_F16, MAX_F16)));
    }

    /** q = clamp(round(w/s) + z, 0, maxq) (docs/methods/rtn-gptq.md §1). */
    public static int code(float w, float scale, float zero, int maxq) {
        return (int) Math.clamp(Math.rint(w / scale) + zero, 0.0, maxq);
    }

    /** ŵ = s·(q − z). */
    public static float dequant(int code, float scale, float zero) {
        return scale * (code - zero);
    }

    /** The group size RTN uses and the format records: G_q, or d_in when G_q ≥ d_in (one group per row). */
    public static int effectiveGroupSize(int groupSize, int dIn) {
        if (groupSize <= 0) throw new IllegalArgumentException("group size must be positive, got " + groupSize);
        return Math.min(groupSize, dIn);
    }

    /**
     * Round-to-nearest (docs/methods/rtn-gptq.md §1) of a row-major weight, per row and per group of G_q consecutive input
     * columns (the last group may be shorter).
     *
     * @param w         (d_out, d_in); not modified
     * @param groupSize G_q; at least d_in means one group per row (see {@link #effectiveGroupSize})
     * @param codes     (d_out, d_in) codes in [0, 2^b); Modified
     * @param scales    (d_out, n_groups) stored (F16) scales; Modified
     * @param zeros     (d_out, n_groups) zero points (2^(b−1) when symmetric); Modified
     */
    public static void rtn(float[] w, int dOut, int dIn, int bits, int groupSize, boolean symmetric,
                           byte[] codes, float[] scales, byte[] zeros) {
        checkBits(bits);
        int gs = effectiveGroupSize(groupSize, dIn);
        int ng = UniformQuantized.groups(dIn, gs);
        int maxq = maxq(bits);
        // Rows are independent: large weights are split across the kernel threads (same codes, any split).
        if ((long) dOut * dIn >= PARALLEL_MIN_WEIGHTS) {
            dev.shrink4j.tensors.Parallel.forRange(dOut, 16, dev.shrink4j.tensors.Parallel.threads(),
                    (j0, j1) -> rtnRows(w, j0, j1, dIn, bits, gs, ng, maxq, symmetric, codes, scales, zeros));
        } else {
            rtnRows(w, 0, dOut, dIn, bits, gs, ng, maxq, symmetric, codes, scales, zeros);
        }
    }

    /** Weights from which {@link #rtn} splits rows across threads (a 512 × 512 layer and up). */
    private static final long PARALLEL_MIN_WEIGHTS = 1L << 18;

    private static void rtnRows(float[] w, int j0, int j1, int dIn, int bits, int gs, int ng, int maxq, boolean symmetric,
                                byte[] codes, float[] scales, byte[] zeros) {
        float[] sz = new float[2];
        for (int j = j0; j < j1; j++) {
            int row = j * dIn;
            for (int g = 0; g < ng; g++) {
                int from = g * gs;
                int to = Math.min(dIn, from + gs);
                float min = Float.POSITIVE_INFINITY;
                float max = Float.NEGATIVE_INFINITY;
                for (int i = from; i < to; i++) {
                    min = Math.min(min, w[row + i]);
                    max = Math.max(max, w[row + i]);
                }
                fit(min, max, bits, symmetric, sz);
                scales[j * ng + g] = sz[0];
                zeros[j * ng + g] = (byte) sz[1];
                for (int i = from; i < to; i++) {
                    codes[row + i] = (byte) code(w[row + i], sz[0], sz[1], maxq);
                }
            }
        }
    }
}
