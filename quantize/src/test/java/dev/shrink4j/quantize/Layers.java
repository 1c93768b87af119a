package dev.shrink4j.quantize;

import java.util.Random;

/** Synthetic layers for the property tests: weights and realistic activation Hessians. */
final class Layers {
    private Layers() {}

    /** (d_out, d_in) Gaussian weights with a few heavy rows and columns, like trained linears. */
    static float[] weights(Random rnd, int dOut, int dIn) {
        float[] w = new float[dOut * dIn];
        for (int j = 0; j < dOut; j++) {
            double rowScale = 0.02 * (1 + (j % 7 == 0 ? 2 : 0));
            for (int i = 0; i < dIn; i++) w[j * dIn + i] = (float) (rnd.nextGaussian() * rowScale);
        }
        return w;
    }

    /**
     * (n, d_in) activations: a low-rank correlated part plus noise, with a few outlier channels 20×
     * larger (the pattern of LLM activations that makes GPTQ's feedback matter).
     */
    static float[] activations(Random rnd, int n, int dIn) {
        int rank = Math.max(2, dIn / 8);
        double[] mix = new double[rank * dIn];
        for (int i = 0; i < mix.length; i++) mix[i] = rnd.nextGaussian();
        boolean[] outlier = new boolean[dIn];
        for (int k = 0; k < Math.max(1, dIn / 32); k++) outlier[rnd.nextInt(dIn)] = true;
        float[] x = new float[n * dIn];
        double[] z = new double[rank];
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < rank; r++) z[r] = rnd.nextGaussian();
            for (int i = 0; i < dIn; i++) {
                double v = 0.3 * rnd.nextGaussian();
                for (int r = 0; r < rank; r++) v += z[r] * mix[r * dIn + i];
                x[t * dIn + i] = (float) (outlier[i] ? 20 * v : v);
            }
        }
        return x;
    }

    /** XᵀX/n, (d_in, d_in), in fp64. */
    static double[] hessian(float[] x, int n, int dIn) {
        double[] h = new double[dIn * dIn];
        for (int t = 0; t < n; t++) {
            for (int a = 0; a < dIn; a++) {
                double xa = x[t * dIn + a];
                for (int b = 0; b < dIn; b++) h[a * dIn + b] += xa * x[t * dIn + b];
            }
        }
        for (int i = 0; i < h.length; i++) h[i] /= n;
        return h;
    }

    static double[] realisticHessian(Random rnd, int n, int dIn) {
        return hessian(activations(rnd, n, dIn), n, dIn);
    }

    static double[] identity(int n) {
        double[] h = new double[n * n];
        for (int i = 0; i < n; i++) h[i * n + i] = 1;
        return h;
    }
}
