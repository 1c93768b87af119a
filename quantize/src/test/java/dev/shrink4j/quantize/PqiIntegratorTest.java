package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * The integrator on a loss quadratic in W, F(w) = ½(w − c)ᵀA(w − c), where the discretisation error has a
 * closed form (docs/methods/pqi-requant.md §2): ḡ(t)ᵀΔ = g₀ᵀΔ + t·ΔᵀAΔ is linear in t, so the midpoint
 * rule is exact at every N (N = 1 included) and the left end points miss by exactly −ΔᵀAΔ/(2N): O(1/N).
 */
class PqiIntegratorTest {
    /** Float accumulators over 61 weights, relative to |ΔF|. */
    private static final double FLOAT_TOL = 1e-5;

    /** Two tensors (odd sizes) of one quadratic with a dense random SPD A. */
    static final class Quadratic implements Pqi.LossPath {
        final int n = 61;
        final double[][] a = new double[n][n];
        final double[] c = new double[n], w = new double[n], q = new double[n];
        final Map<String, Long> sizes = new LinkedHashMap<>();

        Quadratic(long seed) {
            Random r = new Random(seed);
            double[][] b = new double[n][n];
            for (double[] row : b) for (int j = 0; j < n; j++) row[j] = r.nextGaussian();
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double s = i == j ? 0.5 : 0;
                    for (int k = 0; k < n; k++) s += b[i][k] * b[j][k] / n;
                    a[i][j] = s;
                }
                c[i] = r.nextGaussian();
                w[i] = c[i] + 0.1 * r.nextGaussian();
                q[i] = w[i] + 0.3 * r.nextGaussian(); // the "quantized" point
            }
            sizes.put("x.weight", 23L);
            sizes.put("y.weight", (long) n - 23);
        }

        double f(double[] v) {
            double s = 0;
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) s += 0.5 * (v[i] - c[i]) * a[i][j] * (v[j] - c[j]);
            return s;
        }

        double[] at(double t) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = w[i] + t * (q[i] - w[i]);
            return v;
        }

        /** ΔᵀAΔ. */
        double curvature() {
            double s = 0;
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) s += (q[i] - w[i]) * a[i][j] * (q[j] - w[j]);
            return s;
        }

        @Override public Map<String, Long> sizes() {
            return sizes;
        }

        @Override public double loss(double t, BiConsumer<String, float[]> gradient) {
            double[] v = at(t);
            if (gradient != null) {
                float[] g = new float[n];
                for (int i = 0; i < n; i++) {
                    double s = 0;
                    for (int j = 0; j < n; j++) s += a[i][j] * (v[j] - c[j]);
                    g[i] = (float) s;
                }
                gradient.accept("x.weight", java.util.Arrays.copyOfRange(g, 0, 23));
                gradient.accept("y.weight", java.util.Arrays.copyOfRange(g, 23, n));
            }
            return f(v);
        }

        @Override public float[] delta(String name) {
            int from = name.equals("x.weight") ? 0 : 23, to = name.equals("x.weight") ? 23 : n;
            float[] d = new float[to - from];
            for (int i = from; i < to; i++) d[i - from] = (float) (q[i] - w[i]);
            return d;
        }
    }

    @Test
    void midpointIsExactForAQuadraticEvenAtOnePoint() {
        Quadratic f = new Quadratic(1);
        for (int n : new int[] {1, 3, 8}) {
            try (Pqi pqi = new Pqi(f, Pqi.Options.of(n, Pqi.Rule.MIDPOINT))) {
                Pqi.Result r = pqi.run();
                assertEquals(f.f(f.at(1)) - f.f(f.at(0)), r.deltaF(), 1e-12);
                assertEquals(r.deltaF(), r.sum(new Pqi.Scheme(n, Pqi.Rule.MIDPOINT)), FLOAT_TOL * Math.abs(r.deltaF()), "N = " + n);
                double perWeight = 0; // the scores add up to Σ PQI
                for (String name : pqi.weightNames()) for (float v : pqi.scores(name)) perWeight += v;
                assertEquals(r.deltaF(), perWeight, FLOAT_TOL * Math.abs(r.deltaF()));
            }
        }
    }

    @Test
    void leftEndPointsMissByExactlyHalfTheCurvatureOverN() {
        Quadratic f = new Quadratic(2);
        List<Pqi.Scheme> schemes = List.of(new Pqi.Scheme(1, Pqi.Rule.LEFT), new Pqi.Scheme(2, Pqi.Rule.LEFT), new Pqi.Scheme(4, Pqi.Rule.LEFT),
                new Pqi.Scheme(8, Pqi.Rule.LEFT), new Pqi.Scheme(16, Pqi.Rule.LEFT));
        try (Pqi pqi = new Pqi(f, Pqi.Options.of(16, Pqi.Rule.LEFT).alsoReporting(schemes))) {
            Pqi.Result r = pqi.run();
            assertEquals(16, r.ts().length, "the points of N = 1, 2, 4, 8 are among those of N = 16");
            double curv = f.curvature();
            double prev = Double.POSITIVE_INFINITY;
            for (Pqi.Scheme s : schemes) {
                double err = r.sum(s) - r.deltaF();
                assertEquals(-curv / (2 * s.points()), err, FLOAT_TOL * Math.abs(r.deltaF()), "N = " + s.points());
                assertTrue(Math.abs(err) < prev);
                prev = Math.abs(err);
            }
            assertEquals(r.sum(schemes.get(0)), r.taylor(), 0, "N = 1 left is the first-order Taylor term");
        }
    }
}
