package dev.shrink4j.tensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FloatsTest {
    @Test
    void everyBf16WidensAndNarrowsBackExactly() {
        for (int b = 0; b < 0x10000; b++) {
            float f = Floats.bf16ToF32((short) b);
            short back = Floats.f32ToBf16(f);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(Floats.bf16ToF32(back)), "NaN stays NaN for bits " + Integer.toHexString(b));
            } else {
                assertEquals((short) b, back, "bf16 bits " + Integer.toHexString(b));
            }
        }
    }

    @Test
    void everyF16WidensAndNarrowsBackExactly() {
        for (int b = 0; b < 0x10000; b++) {
            float f = Floats.f16ToF32((short) b);
            if (!Float.isNaN(f)) {
                assertEquals((short) b, Floats.f32ToF16(f), "f16 bits " + Integer.toHexString(b));
            }
        }
    }

    @Test
    void bf16RoundsToNearestEvenAgainstExactArithmetic() {
        SplittableRandom rnd = new SplittableRandom(42);
        for (int i = 0; i < 200_000; i++) {
            float f = Float.intBitsToFloat(rnd.nextInt());
            if (Float.isNaN(f) || Float.isInfinite(f)) continue;
            float got = Floats.bf16ToF32(Floats.f32ToBf16(f));
            // Reference: the two bf16 neighbours by truncation, chosen by exact distance, ties to even.
            int bits = Float.floatToRawIntBits(f);
            float lo = Float.intBitsToFloat(bits & 0xFFFF0000);
            float hi = Float.intBitsToFloat((bits & 0xFFFF0000) + 0x10000);
            if (Float.isInfinite(hi) || Float.isNaN(hi)) continue; // rounding up past MAX is checked in specialValues
            BigDecimal x = new BigDecimal(f);
            int cmp = x.subtract(new BigDecimal(lo)).abs().compareTo(x.subtract(new BigDecimal(hi)).abs());
            float want = cmp < 0 ? lo : cmp > 0 ? hi : (((bits >>> 16) & 1) == 0 ? lo : hi);
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), "f32 " + f);
        }
    }

    @Test
    void specialValues() {
        assertTrue(Float.isNaN(Floats.bf16ToF32(Floats.f32ToBf16(Float.NaN))));
        assertEquals(Float.POSITIVE_INFINITY, Floats.bf16ToF32(Floats.f32ToBf16(Float.POSITIVE_INFINITY)));
        assertEquals(Float.POSITIVE_INFINITY, Floats.f16ToF32(Floats.f32ToF16(70000f)), "F16 overflow is Inf");
        assertEquals(0f, Floats.f16ToF32(Floats.f32ToF16(1e-10f)));
        assertEquals(5.9604645e-8f, Floats.f16ToF32(Floats.f32ToF16(5.9604645e-8f)), "smallest F16 subnormal");
        assertEquals(1.0f, Floats.bf16ToF32(Floats.f32ToBf16(1.00390625f)), "tie 1 + 2^-8 rounds to even (1.0)");
    }
}
