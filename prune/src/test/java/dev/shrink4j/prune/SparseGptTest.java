package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SparseGptTest {
    private static final double MATCH = 2e-4;

    /** Correlated calibration inputs (tokens, d): a shared low-rank part plus per-channel scales. */
    static float[] inputs(Random rnd, int tokens, int d) {
        float[] x = new float[tokens * d];
        float[] dir = new float[d];
        for (int i = 0; i < d; i++) {
            dir[i] = (float) rnd.nextGaussian();
        }
        for (int t = 0; t < tokens; t++) {
            double z = rnd.nextGaussian();
            for (int i = 0; i < d; i++) {
                x[t * d + i] = (float) (z * dir[i] + 0.5 * rnd.nextGaussian() * (1 + (i % 5)));
            }
        }
        return x;
    }

    static double[] hessian(float[] x, int tokens, int d) {
        double[] h = new double[d * d];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    h[i * d + j] += (double) x[t * d + i] * x[t * d + j] / tokens;
                }
            }
        }
        double mean = 0;
        for (int i = 0; i < d; i++) {
            mean += h[i * d + i] / d;
        }
        for (int i = 0; i < d; i++) {
            h[i * d + i] += 0.01 * mean;
        }
        return h;
    }

    static double[] inverse(double[] a0, int d) {
        double[] a = a0.clone();
        double[] inv = new double[d * d];
        for (int i = 0; i < d; i++) {
            inv[i * d + i] = 1;
        }
        for (int c = 0; c < d; c++) {
            double piv = a[c * d + c];
            for (int k = 0; k < d; k++) {
                a[c * d + k] /= piv;
                inv[c * d + k] /= piv;
            }
            for (int r = 0; r < d; r++) {
                if (r != c) {
                    double f = a[r * d + c];
                    for (int k = 0; k < d; k++) {
                        a[r * d + k] -= f * a[c * d + k];
                        inv[r * d + k] -= f * inv[c * d + k];
                    }
                }
            }
        }
        return inv;
    }

    /** Upper U with A = UᵀU (the transpose of the lower Cholesky factor). */
    static float[] upperCholesky(double[] a, int d) {
        double[] l = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i * d + j];
                for (int k = 0; k < j; k++) {
                    s -= l[i * d + k] * l[j * d + k];
                }
                l[i * d + j] = i == j ? Math.sqrt(s) : s / l[j * d + j];
            }
        }
        float[] u = new float[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                u[i * d + j] = (float) l[j * d + i];
            }
        }
        return u;
    }

    /**
     * Textbook OBS, column by column, eager, in fp64: the pruned weight's error goes to the later
     * columns through the inverse Hessian of the remaining columns, which is then updated by
     * eliminating the column (docs/methods/pruning.md §3 without Cholesky or lazy blocks).
     */
    static double[] naive(float[] w0, int dOut, int d, double[] h, double p, NmPattern pattern, int bs) {
        double[] w = new double[w0.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = w0[i];
        }
        double[] hinv = inverse(h, d);
        // diagonal of the inverse after eliminating columns 0..k−1, used by the saliency
        double[] diag = new double[d];
        double[] t = hinv.clone();
        for (int k = 0; k < d; k++) {
            diag[k] = t[k * d + k];
            eliminate(t, d, k);
        }
        boolean[] mask = new boolean[w.length];
        for (int i = 0; i < d; i++) {
            if (pattern == null && i % bs == 0) {
                int b = Math.min(bs, d - i);
                float[] psi = new float[dOut * b];
                for (int j = 0; j < dOut; j++) {
                    for (int c = 0; c < b; c++) {
                        double v = w[j * d + i + c];
                        psi[j * b + c] = (float) (v * v / diag[i + c]);
                    }
                }
                boolean[] bm = new boolean[dOut * b];
                Selection.lowestK(psi, 0, dOut * b, (int) Math.floor(p * dOut * b), new long[dOut * b], bm, 0);
                for (int j = 0; j < dOut; j++) {
                    System.arraycopy(bm, j * b, mask, j * d + i, b);
                }
            }
            for (int j = 0; j < dOut; j++) {
                if (pattern != null && i % pattern.m() == 0) {
                    float[] psi = new float[pattern.m()];
                    for (int g = 0; g < pattern.m(); g++) {
                        double v = w[j * d + i + g];
                        psi[g] = (float) (v * v / diag[i + g]);
                    }
                    Selection.nm(psi, 0, pattern.m(), pattern, mask, j * d + i);
                }
                if (mask[j * d + i]) {
                    double e = w[j * d + i] / hinv[i * d + i];
                    for (int k = i; k < d; k++) {
                        w[j * d + k] -= e * hinv[i * d + k];
                    }
                    w[j * d + i] = 0;
                }
            }
            eliminate(hinv, d, i);
        }
        return w;
    }

    private static void eliminate(double[] a, int d, int k) {
        double piv = a[k * d + k];
        for (int r = k + 1; r < d; r++) {
            double f = a[r * d + k] / piv;
            for (int c = k + 1; c < d; c++) {
                a[r * d + c] -= f * a[k * d + c];
            }
        }
    }

    static float[] weights(Random rnd, int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) rnd.nextGaussian();
        }
        return w;
    }

    /** ‖(W − Ŵ)X‖² summed over rows = Σ_j e_jᵀ H e_j (docs/methods/README.md §2). */
    static double layerError(float[] w, float[] wHat, double[] h, int dOut, int d) {
        double total = 0;
        for (int j = 0; j < dOut; j++) {
            for (int a = 0; a < d; a++) {
                double ea = w[j * d + a] - wHat[j * d + a];
                for (int b = 0; b < d; b++) {
                    total += ea * h[a * d + b] * (w[j * d + b] - wHat[j * d + b]);
                }
            }
        }
        return total;
    }

    @Test
    void lazyBlocksMatchTextbookObs() {
        Random rnd = new Random(6);
        int dOut = 37; // more than one row tile
        int d = 24;
        double[] h = hessian(inputs(rnd, 200, d), 200, d);
        float[] u = upperCholesky(inverse(h, d), d);
        for (NmPattern pattern : new NmPattern[] {null, NmPattern.TWO_FOUR, NmPattern.FOUR_EIGHT}) {
            for (int bs : new int[] {8, 16, 128}) {
                float[] w0 = weights(rnd, dOut * d);
                float[] w = w0.clone();
                boolean[] mask = SparseGpt.prune(w, dOut, d, u, 0.5, pattern, bs);
                double[] ref = naive(w0, dOut, d, h, 0.5, pattern, bs);
                for (int i = 0; i < w.length; i++) {
                    assertEquals(ref[i], w[i], MATCH * (1 + Math.abs(ref[i])), "pattern " + pattern + " bs " + bs + " at " + i);
                    assertEquals(mask[i], w[i] == 0f);
                }
            }
        }
    }

    @Test
    void unstructuredPrunesExactlyTheTargetPerBlock() {
        Random rnd = new Random(7);
        int dOut = 10;
        int d = 20;
        double[] h = hessian(inputs(rnd, 100, d), 100, d);
        float[] u = upperCholesky(inverse(h, d), d);
        float[] w = weights(rnd, dOut * d);
        boolean[] mask = SparseGpt.prune(w, dOut, d, u, 0.3, null, 8);
        // blocks of 8, 8, 4 columns: ⌊0.3·80⌋ + ⌊0.3·80⌋ + ⌊0.3·40⌋
        assertEquals(24 + 24 + 12, Masks.count(mask));
    }

    @Test
    void beatsMagnitudeAndWandaOnTheLayerObjective() {
        Random rnd = new Random(8);
        int dOut = 16;
        int d = 32;
        float[] x = inputs(rnd, 400, d);
        double[] h = hessian(x, 400, d);
        float[] u = upperCholesky(inverse(h, d), d);
        float[] w = weights(rnd, dOut * d);
        for (NmPattern pattern : new NmPattern[] {null, NmPattern.TWO_FOUR}) {
            float[] sgpt = w.clone();
            SparseGpt.prune(sgpt, dOut, d, u, 0.5, pattern, 128);
            float[] mag = w.clone();
            if (pattern == null) {
                Magnitude.pruneMatrix(mag, 0.5);
            } else {
                Magnitude.pruneNm(mag, dOut, d, pattern);
            }
            Wanda wanda = new Wanda(d);
            wanda.observe(x, 400);
            float[] wan = w.clone();
            wanda.prune(wan, dOut, d, 0.5, pattern);
            double eS = layerError(w, sgpt, h, dOut, d);
            double eM = layerError(w, mag, h, dOut, d);
            double eW = layerError(w, wan, h, dOut, d);
            assertTrue(eS < eW && eS < eM, "pattern " + pattern + ": sparsegpt " + eS + " wanda " + eW + " magnitude " + eM);
        }
    }
}
