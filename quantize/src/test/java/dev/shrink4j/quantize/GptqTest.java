package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class GptqTest {
    private static final int CASES = 100;
    private static final int MIN_WINS = 95;

    @Test
    void beatsRtnOnRealisticHessians() {
        int wins = 0;
        for (int seed = 0; seed < CASES; seed++) {
            Random rnd = new Random(seed);
            int dOut = 24, dIn = 48, n = 192;
            float[] w = Layers.weights(rnd, dOut, dIn);
            double[] h = Layers.realisticHessian(rnd, n, dIn);
            int bits = 2 + seed % 3;
            GptqOptions o = GptqOptions.defaults(bits, 16, seed % 2 == 0).withBlockSize(32);
            double gptq = LayerError.of(w, Gptq.quantize(w, h, dOut, dIn, o).quantized().dequantize(), h, dOut, dIn);
            double rtn = LayerError.of(w, Rtn.quantize(w, dOut, dIn, bits, 16, seed % 2 == 0).dequantize(), h, dOut, dIn);
            if (gptq < rtn) wins++;
        }
        assertTrue(wins >= MIN_WINS, "GPTQ beat RTN in " + wins + " of " + CASES);
    }

    @Test
    void identityHessianIsRtn() {
        // With H = I the damped inverse is diagonal: no error feedback, GPTQ rounds like RTN.
        Random rnd = new Random(7);
        float[] w = Layers.weights(rnd, 8, 40);
        UniformCodes g = Gptq.quantize(w, Layers.identity(40), 8, 40, GptqOptions.defaults(3, 16, false)).quantized();
        UniformCodes r = Rtn.quantize(w, 8, 40, 3, 16, false);
        assertArrayEquals(r.dequantize(), g.dequantize());
    }

    @Test
    void everyOrderingAndGroupingIsConsistent() {
        Random rnd = new Random(11);
        int dOut = 12, dIn = 70; // ragged: 70 = 4·16 + 6
        float[] w = Layers.weights(rnd, dOut, dIn);
        double[] h = Layers.realisticHessian(rnd, 150, dIn);
        double rtn = LayerError.of(w, Rtn.quantize(w, dOut, dIn, 3, 16, false).dequantize(), h, dOut, dIn);
        for (boolean act : new boolean[] {false, true}) {
            for (boolean stat : new boolean[] {false, true}) {
                GptqOptions o = GptqOptions.defaults(3, 16, false).withActOrder(act, stat).withBlockSize(24);
                UniformCodes q = Gptq.quantize(w, h, dOut, dIn, o).quantized();
                if (act && !stat) assertNotNull(q.gIdx()); else assertNull(q.gIdx());
                double err = LayerError.of(w, q.dequantize(), h, dOut, dIn);
                assertTrue(err < rtn, "act=" + act + " static=" + stat + ": " + err + " vs RTN " + rtn);
            }
        }
    }

    @Test
    void lazyBlockSizeDoesNotChangeTheResultMuch() {
        Random rnd = new Random(5);
        float[] w = Layers.weights(rnd, 16, 64);
        double[] h = Layers.realisticHessian(rnd, 256, 64);
        GptqOptions o = GptqOptions.defaults(4, 64, false);
        double a = LayerError.of(w, Gptq.quantize(w, h, 16, 64, o.withBlockSize(64)).quantized().dequantize(), h, 16, 64);
        double b = LayerError.of(w, Gptq.quantize(w, h, 16, 64, o.withBlockSize(8)).quantized().dequantize(), h, 16, 64);
        assertEquals(a, b, 1e-3 * a);
    }

    @Test
    void deadColumnsAreZeroed() {
        Random rnd = new Random(2);
        float[] w = Layers.weights(rnd, 4, 16);
        double[] h = Layers.realisticHessian(rnd, 64, 16);
        for (int k = 0; k < 16; k++) {
            h[3 * 16 + k] = 0;
            h[k * 16 + 3] = 0;
        }
        Gptq.Result r = Gptq.quantize(w, h, 4, 16, GptqOptions.defaults(4, 16, false));
        assertEquals(1, r.deadColumns());
        float[] d = r.quantized().dequantize();
        for (int j = 0; j < 4; j++) assertEquals(0f, d[j * 16 + 3]);
    }
}
