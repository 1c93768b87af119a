package dev.shrink4j.lowrank;

import java.util.SplittableRandom;

/** Seeded test matrices. */
final class TestMatrices {
    private TestMatrices() {}

    static float[] gaussian(int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] a = new float[rows * cols];
        for (int i = 0; i < a.length; i++) a[i] = (float) gauss(rng);
        return a;
    }

    /** A full-rank (rows, cols) matrix whose k-th singular value decays like decay^k. */
    static float[] decaying(int rows, int cols, double decay, long seed) {
        int n = Math.min(rows, cols);
        double[] u = orthonormalColumns(rows, n, seed);
        double[] v = orthonormalColumns(cols, n, seed + 1);
        double[] us = new double[rows * n]; // U·Σ
        for (int i = 0; i < rows; i++) {
            for (int k = 0; k < n; k++) us[i * n + k] = u[i * n + k] * Math.pow(decay, k);
        }
        double[] prod = dev.shrink4j.tensors.linalg.Matrices.multiply(us, false, v, true, rows, cols, n); // (U·Σ)·Vᵀ
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) prod[i];
        return w;
    }

    /** Gram–Schmidt on a Gaussian matrix: (rows, n) with orthonormal columns. */
    static double[] orthonormalColumns(int rows, int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] q = new double[rows * n];
        for (int i = 0; i < q.length; i++) q[i] = gauss(rng);
        for (int k = 0; k < n; k++) {
            for (int p = 0; p < k; p++) {
                double dot = 0;
                for (int i = 0; i < rows; i++) dot += q[i * n + k] * q[i * n + p];
                for (int i = 0; i < rows; i++) q[i * n + k] -= dot * q[i * n + p];
            }
            double norm = 0;
            for (int i = 0; i < rows; i++) norm += q[i * n + k] * q[i * n + k];
            norm = Math.sqrt(norm);
            for (int i = 0; i < rows; i++) q[i * n + k] /= norm;
        }
        return q;
    }

    /** H = XᵀX/n for n tokens of correlated inputs x = z·Mix with heavy-tailed channel scales. */
    static double[] correlatedGram(int dIn, int tokens, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] mix = new double[dIn * dIn];
        for (int i = 0; i < mix.length; i++) mix[i] = gauss(rng) / Math.sqrt(dIn);
        double[] scale = new double[dIn];
        for (int i = 0; i < dIn; i++) scale[i] = Math.exp(1.5 * gauss(rng));
        double[] h = new double[dIn * dIn];
        double[] z = new double[dIn];
        double[] x = new double[dIn];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < dIn; i++) z[i] = gauss(rng);
            for (int j = 0; j < dIn; j++) {
                double s = z[j];
                for (int i = 0; i < dIn; i++) s += z[i] * mix[i * dIn + j];
                x[j] = s * scale[j];
            }
            for (int i = 0; i < dIn; i++) {
                for (int j = 0; j < dIn; j++) h[i * dIn + j] += x[i] * x[j] / tokens;
            }
        }
        return h;
    }

    static double gauss(SplittableRandom rng) {
        double u = 1 - rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
    }
}
