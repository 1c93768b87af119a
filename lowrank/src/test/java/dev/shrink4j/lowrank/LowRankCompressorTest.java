package dev.shrink4j.lowrank;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.ShrinkException;
import org.junit.jupiter.api.Test;

class LowRankCompressorTest {
    private static final int D_OUT = 36;
    private static final int D_IN = 28;
    private static final int TOKENS = 200;
    /** docs/methods/pipeline.md §3: each chunk's XᵀX is formed in fp32 before the fp64 sum. */
    private static final double F32_CHUNKS = 1e-6;

    private static LinearStats stats(LowRankMethod m, float[] x) {
        LinearStats s = LinearStats.forMethod(m, D_IN);
        s.observe(x, TOKENS / 2);
        float[] rest = java.util.Arrays.copyOfRange(x, TOKENS / 2 * D_IN, x.length);
        s.observe(rest, TOKENS - TOKENS / 2);
        return s;
    }

    @Test
    void statsAreTheGramAndMeanAbsoluteActivationOverAllBatches() {
        float[] x = TestMatrices.gaussian(TOKENS, D_IN, 1);
        LinearStats s = new LinearStats(D_IN, true, true);
        s.observe(x, 3);
        s.observe(java.util.Arrays.copyOfRange(x, 3 * D_IN, x.length), TOKENS - 3);
        double[] h = s.gram();
        double[] mean = s.meanAbs();
        assertEquals(TOKENS, s.tokens());
        for (int i = 0; i < D_IN; i++) {
            double m = 0;
            for (int t = 0; t < TOKENS; t++) m += Math.abs((double) x[t * D_IN + i]) / TOKENS;
            assertEquals(m, mean[i], 1e-12);
            for (int j = 0; j < D_IN; j++) {
                double g = 0;
                for (int t = 0; t < TOKENS; t++) g += (double) x[t * D_IN + i] * x[t * D_IN + j];
                assertEquals(g / TOKENS, h[i * D_IN + j], F32_CHUNKS);
            }
        }
        assertNull(new LinearStats(D_IN, false, false).gram());
    }

    @Test
    void everyMethodStaysWithinTheBudgetAndActivationAwareOnesWinOnTheOutput() {
        float[] w = TestMatrices.gaussian(D_OUT, D_IN, 2);
        float[] x = TestMatrices.gaussian(TOKENS, D_IN, 3);
        for (int t = 0; t < TOKENS; t++) { // heavy, correlated channels 0..3
            for (int i = 0; i < 4; i++) x[t * D_IN + i] = 6 * x[t * D_IN + i] + 3 * x[t * D_IN + 4];
        }
        double ratio = 0.5;
        long budget = Budgets.values(D_OUT, D_IN, ratio);
        java.util.Map<LowRankMethod, Double> outErr = new java.util.EnumMap<>(LowRankMethod.class);
        LinearStats gram = stats(LowRankMethod.WHITENED_SVD, x);
        for (LowRankMethod m : LowRankMethod.values()) {
            LinearStats s = m.needsCalibration() ? stats(m, x) : null;
            LowRankCompressor.Result r = new LowRankCompressor(LowRankCompressor.Settings.defaults(m, ratio)).compress("layer", w, D_OUT, D_IN, s);
            assertTrue(r.params() <= budget, m + " spends " + r.params() + " of " + budget);
            assertEquals(m.isLost(), r.lost() != null);
            assertNotNull(r.lowRank());
            outErr.put(m, ReconstructionError.relativeWeighted(w, r.merged(), gram.gram(), D_OUT, D_IN));
            if (s != null && s.gram() != null) assertEquals(outErr.get(m), r.outputError(), 1e-12);
        }
        assertTrue(outErr.get(LowRankMethod.WHITENED_SVD) < outErr.get(LowRankMethod.SVD), outErr.toString());
        assertTrue(outErr.get(LowRankMethod.ASVD) < outErr.get(LowRankMethod.SVD), outErr.toString());
        assertTrue(outErr.get(LowRankMethod.LOST_WHITENED) < outErr.get(LowRankMethod.LOST), outErr.toString());
    }

    @Test
    void clearErrorsForImpossibleBudgetsAndMissingCalibration() {
        float[] w = TestMatrices.gaussian(D_OUT, D_IN, 4);
        ShrinkException tiny = assertThrows(ShrinkException.class, () -> new LowRankCompressor(
                LowRankCompressor.Settings.defaults(LowRankMethod.LOST, 0.05)).compress("model.layers.0.mlp.up_proj", w, D_OUT, D_IN, null));
        assertTrue(tiny.getMessage().startsWith("model.layers.0.mlp.up_proj (36x28): params ratio 0.05 cannot hold rank 1"), tiny.getMessage());
        ShrinkException noStats = assertThrows(ShrinkException.class, () -> new LowRankCompressor(
                LowRankCompressor.Settings.defaults(LowRankMethod.WHITENED_SVD, 0.5)).compress("m", w, D_OUT, D_IN, null));
        assertTrue(noStats.getMessage().contains("needs calibration"), noStats.getMessage());
        assertThrows(ShrinkException.class, () -> LowRankCompressor.Settings.defaults(LowRankMethod.SVD, 1.2));
        assertThrows(ShrinkException.class, () -> LowRankMethod.parse("tucker"));
        assertArrayEquals(new String[] {"svd", "whitened-svd", "asvd", "lost", "lost-whitened"},
                java.util.Arrays.stream(LowRankMethod.values()).map(LowRankMethod::cliName).toArray());
    }
}
