package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RtnTest {
    @Test
    void asymmetricGoldenValues() {
        // Row [0.5, 1.0, 1.5, 3.0]: range widened to [0, 3], 2 bits → s = 1, z = 0.
        float[] w = {0.5f, 1.0f, 1.5f, 3.0f};
        UniformCodes q = Rtn.quantize(w, 1, 4, 2, 4, false);
        assertEquals(1f, q.scales()[0]);
        assertEquals(0, q.zeros()[0]);
        // rint rounds half to even: 0.5 → 0, 1.5 → 2.
        assertArrayEquals(new byte[] {0, 1, 2, 3}, q.codes());
        assertArrayEquals(new float[] {0f, 1f, 2f, 3f}, q.dequantize());
    }

    @Test
    void symmetricGoldenValues() {
        // a = 1.5, 2 bits: s = 2·1.5/3 = 1, z = 2 → grid {−2, −1, 0, 1}.
        float[] w = {-1.5f, -0.2f, 0.7f, 1.5f};
        UniformCodes q = Rtn.quantize(w, 1, 4, 2, 4, true);
        assertEquals(1f, q.scales()[0]);
        assertEquals(2, q.zeros()[0]);
        assertArrayEquals(new float[] {-2f, 0f, 1f, 1f}, q.dequantize());
    }

    @Test
    void raggedLastGroupHasItsOwnRange() {
        // d_in = 5, G_q = 2 → groups {0,1}, {2,3}, {4}.
        float[] w = {1, 2, -4, 4, 100};
        UniformCodes q = Rtn.quantize(w, 1, 5, 8, 2, false);
        assertEquals(3, q.groups());
        float[] d = q.dequantize();
        assertEquals(100f, d[4], 0.5f);
        assertEquals(1f, d[0], 0.01f);
    }

    @Test
    void zeroIsExactAndErrorShrinksWithBits() {
        Random rnd = new Random(1);
        float[] w = Layers.weights(rnd, 16, 96);
        w[5] = 0f;
        double prev = Double.MAX_VALUE;
        for (int bits : new int[] {2, 3, 4, 8}) {
            UniformCodes q = Rtn.quantize(w, 16, 96, bits, 32, false);
            float[] d = q.dequantize();
            assertEquals(0f, d[5]);
            double err = LayerError.of(w, d, Layers.identity(96), 16, 96);
            assertTrue(err < prev, "error must shrink as bits grow");
            prev = err;
        }
    }

    @Test
    void theFormatsRtnIsThisRtnPacked() {
        Random rnd = new Random(5);
        int dOut = 7, dIn = 45;
        float[] w = new float[dOut * dIn];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        try (Arena arena = Arena.ofConfined()) {
            for (boolean sym : new boolean[] {false, true}) {
                for (int gs : new int[] {16, 45, 128}) {
                    UniformCodes q = Rtn.quantize(w, dOut, dIn, 3, gs, sym);
                    UniformQuantized p = UniformQuantized.rtn(arena, w, dOut, dIn, 3, gs, sym);
                    assertEquals(q.groupSize(), p.groupSize(), "effective group size recorded by both");
                    float[] row = new float[dIn];
                    float[] dq = q.dequantize();
                    for (int j = 0; j < dOut; j++) {
                        p.dequantizeRow(j, row, 0);
                        for (int i = 0; i < dIn; i++) assertEquals(dq[j * dIn + i], row[i], 0f);
                    }
                }
            }
        }
    }

    @Test
    void scalesAreCappedAtTheF16MaximumInBothEntryPoints() {
        float[] w = {-3e6f, 1e6f, 2e6f, 3e6f}; // (3e6 + 3e6) / 3 = 2e6 > 65504
        UniformCodes q = Rtn.quantize(w, 1, 4, 2, 4, false);
        assertEquals(65504f, q.scales()[0]);
        try (Arena arena = Arena.ofConfined()) {
            UniformQuantized p = UniformQuantized.rtn(arena, w, 1, 4, 2, 4, true);
            assertTrue(Float.isFinite(p.scale(0, 0)), "stored F16 scale is finite");
            assertEquals(65504f, p.scale(0, 0));
        }
    }
}
