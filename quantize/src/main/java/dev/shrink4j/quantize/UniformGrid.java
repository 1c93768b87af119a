package dev.shrink4j.quantize;

import dev.shrink4j.tensors.Floats;

/**
 * The affine grid of METHODS.md §2.1 for one group of one row: range widened to include 0, scale
 * stored as fp16 (so what the format stores is exactly what the quantizer used), integer zero point.
 */
final class UniformGrid {
    /** Smallest positive fp16 (subnormal): a scale never rounds to 0. */
    private static final float MIN_F16 = 0x1p-24f;
    private static final float MAX_F16 = 65504f;

    private UniformGrid() {}

    /** Codes are held in one byte: 1 ≤ b ≤ 8. */
    static void checkBits(int bits) {
        if (bits < 1 || bits > 8) {
            throw new IllegalArgumentException("bits must be in 1..8, got " + bits);
        }
    }

    /** Largest code, 2^b − 1. */
    static int maxq(int bits) {
        return (1 << bits) - 1;
    }

    /**
     * Writes scale and zero for a group with the given (unwidened) value range.
     *
     * @param out receives {scale, zero}; modified
     */
    static void fit(float min, float max, int bits, boolean symmetric, float[] out) {
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

    static float toF16(float s) {
        float r = Floats.f16ToF32(Floats.f32ToF16(Math.min(s, MAX_F16)));
        return Math.max(r, MIN_F16);
    }

    /** x rounded to the nearest fp16 value (a LUT entry), sign kept, saturating at ±65504. */
    static float toF16Signed(float x) {
        return Floats.f16ToF32(Floats.f32ToF16(Math.clamp(x, -MAX_F16, MAX_F16)));
    }

    /** q = clamp(round(w/s) + z, 0, maxq) (§2.1). */
    static int code(float w, float scale, float zero, int maxq) {
        return (int) Math.clamp(Math.rint(w / scale) + zero, 0.0, maxq);
    }

    /** ŵ = s·(q − z). */
    static float dequant(int code, float scale, float zero) {
        return scale * (code - zero);
    }
}
