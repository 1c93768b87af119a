package dev.shrink4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The LOST layer's gradients against central finite differences of ℓ = Σ c ⊙ y (docs/methods/lowrank-lost.md §7). */
class FactoredLinearTest {
    /** Relative agreement of an analytic gradient with a float64-evaluated central difference at h = 1e-2. */
    private static final double GRAD_TOL = 2e-3;
    private static final int N = 5, D_IN = 11, D_OUT = 7, RANK = 3;
    private static final int[] COLS = {1, 4, 9};

    @Test
    void lostGradientsMatchFiniteDifferences() {
        check(true, 0.5, COLS);
    }

    @Test
    void lowRankGradientsMatchFiniteDifferences() {
        check(false, 1, new int[0]);
    }

    private static void check(boolean silu, double gamma, int[] cols) {
        SplittableRandom rng = new SplittableRandom(7);
        float[] a = gaussian(rng, RANK * D_IN);
        float[] b = gaussian(rng, D_OUT * RANK);
        float[] ws = cols.length == 0 ? null : gaussian(rng, D_OUT * cols.length);
        float[] x = gaussian(rng, N * D_IN);
        float[] c = gaussian(rng, N * D_OUT); // ℓ = Σ c ⊙ y, so ∂ℓ/∂y = c
        FactoredLinear f = new FactoredLinear(D_OUT, D_IN, RANK, a, b, cols, ws, gamma, silu);
        float[] dA = new float[a.length], dB = new float[b.length], dWs = ws == null ? null : new float[ws.length];
        f.parameterGradients(x, c, N, dA, dB, dWs);
        float[] dx = new float[x.length];
        f.backwardInput(x, c, N, dx);
        compare(f, a, dA, x, c);
        compare(f, b, dB, x, c);
        if (ws != null) compare(f, ws, dWs, x, c);
        compare(f, x, dx, x, c);
    }

    /** Perturbs each entry of {@code p} (a parameter array or x itself) and compares with {@code grad}. */
    private static void compare(FactoredLinear f, float[] p, float[] grad, float[] x, float[] c) {
        double h = 1e-2;
        for (int i = 0; i < p.length; i++) {
            float keep = p[i];
            p[i] = (float) (keep + h);
            double up = loss(f, x, c);
            p[i] = (float) (keep - h);
            double down = loss(f, x, c);
            p[i] = keep;
            double fd = (up - down) / (2 * h);
            assertEquals(fd, grad[i], GRAD_TOL * Math.max(1, Math.abs(fd)), "entry " + i);
        }
    }

    private static double loss(FactoredLinear f, float[] x, float[] c) {
        float[] y = new float[N * D_OUT];
        f.forward(x, N, y);
        double s = 0;
        for (int i = 0; i < y.length; i++) s += (double) c[i] * y[i];
        return s;
    }

    private static float[] gaussian(SplittableRandom rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (0.5 * rng.nextGaussian());
        return v;
    }
}
