package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LnqTest {
    /** f_λ may rise by round-off of the fp32 CD state only: a few ulps of f_λ in relative terms. */
    private static final double MONOTONE_RTOL = 1e-6;

    @Test
    void monitoredObjectiveNeverIncreases() {
        for (int seed = 0; seed < 12; seed++) {
            Random rnd = new Random(seed);
            int dOut = 16, dIn = 72, bits = 2 + seed % 3;
            float[] w = Layers.weights(rnd, dOut, dIn);
            double[] h = Layers.realisticHessian(rnd, 256, dIn);
            LutCodes init = SqueezeLlm.quantize(w, null, dOut, dIn, bits);
            Lnq.Result r = Lnq.quantize(w, h, dOut, dIn, init, new LnqOptions(bits, 4, 3, 32, 1e-7));
            double[] t = r.trace();
            assertTrue(t.length > 2);
            for (int k = 1; k < t.length; k++) {
                assertTrue(t[k] <= t[k - 1] * (1 + MONOTONE_RTOL), "seed " + seed + " step " + k + ": " + t[k - 1] + " → " + t[k]);
            }
        }
    }

    @Test
    void improvesOnSqueezeLlmAndReportsTheTrueObjective() {
        Random rnd = new Random(21);
        int dOut = 20, dIn = 64, bits = 3;
        float[] w = Layers.weights(rnd, dOut, dIn);
        double[] h = Layers.realisticHessian(rnd, 256, dIn);
        LutCodes init = SqueezeLlm.quantize(w, null, dOut, dIn, bits);
        Lnq.Result r = Lnq.quantize(w, h, dOut, dIn, init, LnqOptions.defaults(bits));
        double initErr = LayerError.of(w, init.dequantize(), h, dOut, dIn);
        double lnqErr = LayerError.of(w, r.quantized().dequantize(), h, dOut, dIn);
        assertEquals(initErr, r.fBefore(), 1e-6 * initErr);
        assertTrue(lnqErr < 0.8 * initErr, lnqErr + " vs " + initErr);
        // The returned LUT is the fp16 rounding of the solved codebook: f moves by rounding only.
        assertEquals(r.fAfter(), lnqErr, 1e-2 * lnqErr);
    }

    @Test
    void lazyBlocksGiveTheSameSweep() {
        Random rnd = new Random(8);
        int dOut = 8, dIn = 50, bits = 2;
        float[] w = Layers.weights(rnd, dOut, dIn);
        double[] h = Layers.realisticHessian(rnd, 128, dIn);
        LutCodes init = SqueezeLlm.quantize(w, null, dOut, dIn, bits);
        LutCodes a = Lnq.quantize(w, h, dOut, dIn, init, new LnqOptions(bits, 1, 1, 7, 1e-7)).quantized();
        LutCodes b = Lnq.quantize(w, h, dOut, dIn, init, new LnqOptions(bits, 1, 1, 64, 1e-7)).quantized();
        assertEquals(LayerError.of(w, a.dequantize(), h, dOut, dIn), LayerError.of(w, b.dequantize(), h, dOut, dIn), 1e-4);
    }
}
