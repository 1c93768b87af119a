package dev.shrink4j.lowrank;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LostTest {
    private static final int D_OUT = 96;
    private static final int D_IN = 80;
    /** ρ·d_in = 4 channels carry most of the energy. */
    private static final int[] HEAVY = {3, 17, 42, 77};

    /** LOST's error is at most this share of plain SVD's on {@link #sparseChannelMatrix} (2x margin). */
    private static final double LOST_WIN = 0.5;

    /**
     * W = L + noise off the {@link #HEAVY} input channels and S on them: L of exact rank k with σ from
     * 10 down to 6, the channels of S with their own random weights (column norms ≈ 1.5, well below
     * σ_k, so the top-k SVD takes L and leaves S in the residual), noise 0.01. Plain SVD needs rank
     * k + 4 to hold it; LOST needs rank k and 4 columns, which is what its budget buys.
     */
    private static float[] sparseChannelMatrix(long seed, int k) {
        double[] u = TestMatrices.orthonormalColumns(D_OUT, k, seed);
        double[] v = TestMatrices.orthonormalColumns(D_IN, k, seed + 1);
        SplittableRandom rng = new SplittableRandom(seed + 2);
        float[] w = new float[D_OUT * D_IN];
        for (int o = 0; o < D_OUT; o++) {
            for (int j = 0; j < D_IN; j++) {
                double s = 0.01 * TestMatrices.gauss(rng);
                for (int i = 0; i < k; i++) s += u[o * k + i] * (10 - 4.0 * i / (k - 1)) * v[j * k + i];
                w[o * D_IN + j] = (float) s;
            }
        }
        for (int j : HEAVY) {
            for (int o = 0; o < D_OUT; o++) w[o * D_IN + j] = (float) (0.15 * TestMatrices.gauss(rng));
        }
        return w;
    }

    @Test
    void beatsPlainSvdAtEqualParametersOnSparseChannelStructure() {
        for (long seed = 1; seed <= 3; seed++) {
            for (double ratio : new double[] {0.5, 0.75}) {
                // the rank LOST can afford: 19 at P = 0.5 and 30 at P = 0.75 (plain SVD: 21 and 32)
                float[] w = sparseChannelMatrix(seed, Budgets.lostRank(D_OUT, D_IN, ratio, HEAVY.length));
                LostDecomposition lost = new Lost(Lost.Options.compression()).decompose(w, D_OUT, D_IN, ratio);
                int r = Budgets.svdRank(D_OUT, D_IN, ratio);
                LowRankFactors svd = new TruncatedSvd().compress(w, D_OUT, D_IN, r);
                long budget = Budgets.values(D_OUT, D_IN, ratio);
                assertTrue(lost.params() <= budget && svd.params() <= budget);
                assertEquals(4, lost.columnCount());
                assertArrayEquals(HEAVY, lost.columns(), "the channels of S are the ones kept");
                double eLost = ReconstructionError.relativeFrobenius(w, lost.reconstruct());
                double eSvd = ReconstructionError.relativeFrobenius(w, svd.reconstruct());
                assertTrue(eLost < LOST_WIN * eSvd, "seed " + seed + " P " + ratio + ": LOST " + eLost + " vs SVD " + eSvd);
            }
        }
    }

    @Test
    void compressionDefaultKeepsSelectedColumnsExactlyAndSpendsTheBudget() {
        float[] w = sparseChannelMatrix(9, 19);
        LostDecomposition d = new Lost(Lost.Options.compression()).decompose(w, D_OUT, D_IN, 0.5);
        // c = ⌊0.05·80⌋ = 4, r = ⌊(3840 − 384)/176⌋ = 19
        assertEquals(19, d.rank());
        assertEquals(19L * 176 + 4 * 96, d.params());
        float[] what = d.reconstruct();
        for (int j : d.columns()) {
            for (int o = 0; o < D_OUT; o++) assertEquals(w[o * D_IN + j], what[o * D_IN + j], 1e-5);
        }
        // Off the kept columns Ŵ is the rank-r SVD.
        float[] wr = new TruncatedSvd().compress(w, D_OUT, D_IN, 19).reconstruct();
        for (int o = 0; o < D_OUT; o++) assertEquals(wr[o * D_IN], what[o * D_IN], 1e-5);
    }

    @Test
    void l2ScoresFromTheFactorsMatchExplicitResidualNorms() {
        float[] w = TestMatrices.gaussian(30, 20, 10);
        Lost.Options l2 = Lost.Options.compression().withRho(0.25);
        Lost.Options l1 = new Lost.Options(0.25, 0, Lost.Values.COMPLEMENT, Lost.Selection.L1, 1, 0);
        LostDecomposition a = new Lost(l2).decompose(w, 30, 20, 6, 5);
        // Explicit residual column norms, ranked independently of Lost.
        float[] wr = new TruncatedSvd().compress(w, 30, 20, 6).reconstruct();
        double[] norms = new double[20];
        for (int j = 0; j < 20; j++) {
            for (int o = 0; o < 30; o++) norms[j] += Math.pow(w[o * 20 + j] - wr[o * 20 + j], 2);
        }
        assertArrayEquals(Lost.select(norms, 5), a.columns());
        LostDecomposition b = new Lost(l1).decompose(w, 30, 20, 6, 5);
        assertEquals(5, b.columnCount());
    }

    @Test
    void trainingParameterisationBlendsTheWindowedFactorsWithOriginalColumns() {
        float[] w = sparseChannelMatrix(11, 10);
        double gamma = 0.5;
        Lost.Options opt = new Lost.Options(0.05, 8, Lost.Values.ORIGINAL, Lost.Selection.L2, gamma, 0);
        LostDecomposition d = new Lost(opt).decompose(w, D_OUT, D_IN, 10, 4);
        assertEquals(gamma, d.lowRankScale());
        assertEquals(1 - gamma, d.sparseScale());
        float[] lowRank = d.lowRank().reconstruct();
        float[] what = d.reconstruct();
        for (int k = 0; k < d.columnCount(); k++) {
            int j = d.columns()[k];
            for (int o = 0; o < D_OUT; o++) {
                assertEquals(w[o * D_IN + j], d.values()[o * 4 + k], 0, "values are copied from W");
                assertEquals(gamma * lowRank[o * D_IN + j] + (1 - gamma) * w[o * D_IN + j], what[o * D_IN + j], 1e-5);
            }
        }
    }

    @Test
    void randomSupportIsSeededAndAscending() {
        float[] w = TestMatrices.gaussian(12, 40, 12);
        Lost.Options opt = new Lost.Options(0.25, 0, Lost.Values.COMPLEMENT, Lost.Selection.RANDOM, 1, 5);
        int[] a = new Lost(opt).decompose(w, 12, 40, 3, 10).columns();
        int[] b = new Lost(opt).decompose(w, 12, 40, 3, 10).columns();
        assertArrayEquals(a, b);
        for (int k = 1; k < a.length; k++) assertTrue(a[k] > a[k - 1]);
    }

    @Test
    void activationAwareVariantBeatsPlainLostOnTheLayerOutput() {
        float[] w = sparseChannelMatrix(13, 19);
        double[] h = TestMatrices.correlatedGram(D_IN, 400, 14);
        Lost lost = new Lost(Lost.Options.compression());
        LostDecomposition plain = lost.decompose(w, D_OUT, D_IN, 19, 4);
        LostDecomposition aware = lost.decomposeWhitened(w, D_OUT, D_IN, h, 19, 4, WhitenedSvd.DEFAULT_DAMP);
        assertEquals(plain.params(), aware.params());
        double ePlain = ReconstructionError.relativeWeighted(w, plain.reconstruct(), h, D_OUT, D_IN);
        double eAware = ReconstructionError.relativeWeighted(w, aware.reconstruct(), h, D_OUT, D_IN);
        assertTrue(eAware < ePlain, "aware " + eAware + " vs plain " + ePlain);
    }
}
