package dev.shrink4j.bench.linalg;

import dev.shrink4j.tensors.linalg.Matrices;
import java.util.Random;

/** Seeded inputs shared by the linalg benchmarks and the accuracy check (the NumPy peer builds the same kinds). */
final class LinalgData {
    private LinalgData() {}

    /** The linalg rows are single-threaded: fix the kernel pool before anything in shrink4j loads it. */
    static void singleThread() {
        if (System.getProperty("shrink4j.threads") == null) {
            System.setProperty("shrink4j.threads", "1");
        }
    }

    /** SPD (n, n): (R + Rᵀ)/2 + n·I with R uniform in [−0.5, 0.5), like a damped Hessian in conditioning. */
    static double[] spd(int n, long seed) {
        Random r = new Random(seed);
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                double v = r.nextDouble() - 0.5;
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
            a[i * n + i] += n;
        }
        return a;
    }

    /** Standard Gaussian (m, n). */
    static double[] gaussian(int m, int n, long seed) {
        Random r = new Random(seed);
        double[] a = new double[m * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextGaussian();
        }
        return a;
    }

    /**
     * (m, n) with an LLM-weight-like spectrum: G₁ diag(σ) G₂ + 0.01·noise with inner size 1024,
     * σ_i = (i + 1)^−0.7, so a decaying head of 1024 values above a full-rank noise floor.
     */
    static double[] decaying(int m, int n, long seed) {
        int inner = 1024;
        double[] g1 = gaussian(m, inner, seed);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < inner; j++) {
                g1[i * inner + j] *= Math.pow(j + 1, -0.7);
            }
        }
        double[] g2 = gaussian(inner, n, seed + 1);
        double[] a = Matrices.multiply(g1, false, g2, false, m, n, inner);
        Random r = new Random(seed + 2);
        for (int i = 0; i < a.length; i++) {
            a[i] += 0.01 * r.nextGaussian();
        }
        return a;
    }
}
