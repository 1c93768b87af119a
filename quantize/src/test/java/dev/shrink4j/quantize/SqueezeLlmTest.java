package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SqueezeLlmTest {
    @Test
    void rowWithFewDistinctValuesIsExact() {
        float[] w = {0.5f, -1f, 0.5f, 2f, -1f, 0.25f, 2f, 0.25f};
        LutCodes q = SqueezeLlm.quantize(w, null, 1, 8, 2);
        assertArrayEquals(w, q.dequantize());
    }

    @Test
    void fisherWeightPullsTheCentroid() {
        // Two values share one centroid (1 bit, three values): the heavy one wins.
        float[] w = {0f, 1f, 1.2f};
        float[] light = {1, 1, 1};
        float[] heavy = {1, 1, 1000};
        float hiLight = SqueezeLlm.quantize(w, light, 1, 3, 1).dequantize()[2];
        float hiHeavy = SqueezeLlm.quantize(w, heavy, 1, 3, 1).dequantize()[2];
        assertEquals(1.1f, hiLight, 1e-3f);
        assertEquals(1.2f, hiHeavy, 1e-3f);
    }

    @Test
    void errorShrinksWithBits() {
        Random rnd = new Random(3);
        int dOut = 8, dIn = 256;
        float[] w = Layers.weights(rnd, dOut, dIn);
        float[] f = fisher(rnd, w.length);
        double prev = Double.MAX_VALUE;
        for (int bits = 2; bits <= 5; bits++) {
            double err = fisherError(w, SqueezeLlm.quantize(w, f, dOut, dIn, bits).dequantize(), f, 0, w.length);
            assertTrue(err < prev);
            prev = err;
        }
    }

    @Test
    void fisherWeightingUsuallyWinsOnTheWeightedObjective() {
        // Both are local (Lloyd) optima, so weighting wins on most rows, not on every row.
        Random rnd = new Random(5);
        int dOut = 40, dIn = 128, wins = 0, cases = 0;
        float[] w = Layers.weights(rnd, dOut, dIn);
        float[] f = fisher(rnd, w.length);
        for (int bits = 2; bits <= 4; bits++) {
            float[] weighted = SqueezeLlm.quantize(w, f, dOut, dIn, bits).dequantize();
            float[] plain = SqueezeLlm.quantize(w, null, dOut, dIn, bits).dequantize();
            for (int j = 0; j < dOut; j++, cases++) {
                if (fisherError(w, weighted, f, j * dIn, dIn) < fisherError(w, plain, f, j * dIn, dIn)) wins++;
            }
        }
        assertTrue(wins >= MIN_WIN_RATE * cases, wins + " of " + cases);
    }

    private static final double MIN_WIN_RATE = 0.8;

    private static float[] fisher(Random rnd, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) Math.exp(1.5 * rnd.nextGaussian());
        return f;
    }

    private static double fisherError(float[] w, float[] d, float[] f, int from, int n) {
        double s = 0;
        for (int i = from; i < from + n; i++) s += f[i] * (double) (w[i] - d[i]) * (w[i] - d[i]);
        return s;
    }

    @org.junit.jupiter.api.Test
    void sortedOrderMatchesAStableFloatCompareSort() {
        java.util.Random r = new java.util.Random(5);
        for (int trial = 0; trial < 50; trial++) {
            int n = 1 + r.nextInt(300);
            float[] w = new float[n + 3];
            for (int i = 0; i < w.length; i++) {
                w[i] = switch (r.nextInt(6)) {
                    case 0 -> 0f;
                    case 1 -> -0f;
                    case 2 -> (float) r.nextInt(3); // ties
                    case 3 -> Float.NEGATIVE_INFINITY;
                    default -> (float) r.nextGaussian();
                };
            }
            Integer[] expected = new Integer[n];
            for (int i = 0; i < n; i++) expected[i] = i;
            java.util.Arrays.sort(expected, (a, b) -> Float.compare(w[3 + a], w[3 + b]));
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                    java.util.Arrays.stream(expected).mapToInt(Integer::intValue).toArray(), SqueezeLlm.sortedOrder(w, 3, n));
        }
    }
}
