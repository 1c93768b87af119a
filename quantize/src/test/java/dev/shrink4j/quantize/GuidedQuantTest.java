package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GuidedQuantTest {
    /** Token tiles accumulate in fp32 (docs/methods/pipeline.md §3), so "equal" means equal to fp32 round-off. */
    private static final double ROUNDOFF = 1e-6;

    @Test
    void equalSaliencyGivesTheUnguidedHessian() {
        Random rnd = new Random(4);
        int n = 96, dIn = 24, dOut = 8, g = 4;
        float[] x = Layers.activations(rnd, n, dIn);
        float[] grad = new float[n * dOut];
        Arrays.fill(grad, 1f);
        GuidedHessians gh = new GuidedHessians(dIn, g);
        gh.observe(x, GuidedHessians.saliency(grad, n, dOut, g), 0, n);
        double[] h = Layers.hessian(x, n, dIn);
        for (int k = 0; k < g; k++) {
            double[] hk = gh.hessian(k);
            for (int i = 0; i < h.length; i++) assertEquals(h[i], hk[i], ROUNDOFF * (1 + Math.abs(h[i])));
        }
    }

    @Test
    void equalSaliencyReproducesUnguidedLnqAndGptq() {
        Random rnd = new Random(6);
        int n = 128, dIn = 40, dOut = 16, g = 4;
        float[] w = Layers.weights(rnd, dOut, dIn);
        float[] x = Layers.activations(rnd, n, dIn);
        double[] h = Layers.hessian(x, n, dIn);
        double[][] hBar = new double[g][];
        Arrays.fill(hBar, h);
        LnqOptions lo = LnqOptions.defaults(2);
        float[] guided = GuidedQuant.lnq(w, hBar, null, dOut, dIn, lo).quantized().dequantize();
        float[] plain = Lnq.quantize(w, h, dOut, dIn, SqueezeLlm.quantize(w, null, dOut, dIn, 2), lo).quantized().dequantize();
        // Rows are independent given H, but the early stop is taken per run: compare the layer error.
        double eg = LayerError.of(w, guided, h, dOut, dIn), ep = LayerError.of(w, plain, h, dOut, dIn);
        assertEquals(ep, eg, 0.05 * ep);
        GptqOptions go = GptqOptions.defaults(3, 8, false);
        assertArrayEquals(Gptq.quantize(w, h, dOut, dIn, go).quantized().dequantize(),
                GuidedQuant.gptq(w, hBar, dOut, dIn, go).quantized().dequantize());
    }

    @Test
    void guidanceLowersTheSaliencyWeightedError() {
        // Output channels with large gradients should be quantized more carefully: on the guided
        // objective Σ_k Σ_{j∈J_k} e_jᵀ H̄_k e_j, guided LNQ beats unguided LNQ.
        Random rnd = new Random(9);
        int n = 256, dIn = 32, dOut = 16, g = 4;
        float[] w = Layers.weights(rnd, dOut, dIn);
        float[] x = Layers.activations(rnd, n, dIn);
        float[] grad = new float[n * dOut];
        for (int t = 0; t < n; t++) {
            double tokenWeight = Math.exp(2 * rnd.nextGaussian());
            for (int j = 0; j < dOut; j++) grad[t * dOut + j] = (float) (tokenWeight * (j < 4 ? 3 : 1) * rnd.nextGaussian());
        }
        GuidedHessians gh = new GuidedHessians(dIn, g);
        gh.observe(x, GuidedHessians.saliency(grad, n, dOut, g), 0, n);
        double[][] hBar = new double[g][];
        for (int k = 0; k < g; k++) hBar[k] = gh.hessian(k);
        double[] h = Layers.hessian(x, n, dIn);
        LnqOptions lo = LnqOptions.defaults(2);
        float[] guided = GuidedQuant.lnq(w, hBar, null, dOut, dIn, lo).quantized().dequantize();
        float[] plain = Lnq.quantize(w, h, dOut, dIn, SqueezeLlm.quantize(w, null, dOut, dIn, 2), lo).quantized().dequantize();
        assertTrue(guidedError(w, guided, hBar, dOut, dIn) < guidedError(w, plain, hBar, dOut, dIn));
    }

    private static double guidedError(float[] w, float[] d, double[][] hBar, int dOut, int dIn) {
        int rows = dOut / hBar.length;
        double s = 0;
        for (int k = 0; k < hBar.length; k++) {
            int from = k * rows * dIn, to = (k + 1) * rows * dIn;
            s += LayerError.of(Arrays.copyOfRange(w, from, to), Arrays.copyOfRange(d, from, to), hBar[k], rows, dIn);
        }
        return s;
    }
}
