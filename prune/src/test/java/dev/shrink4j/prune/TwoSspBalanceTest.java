package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.ShrinkException;
import org.junit.jupiter.api.Test;

class TwoSspBalanceTest {
    private static final double PERCENT = 1e-5;

    @Test
    void llama2WorkedExampleOfSection51() {
        long pAttn = 67_108_864L;
        long pMlp = 135_266_304L;
        long pMain = 6_476_267_520L;
        int[][] expected = {{5, 7744}, {9, 6368}, {13, 4992}};
        double[] achieved = {0.24999, 0.37498, 0.49998};
        double[] s = {0.25, 0.375, 0.5};
        for (int i = 0; i < 3; i++) {
            TwoSspBalance b = TwoSspBalance.compute(32, pAttn, pMlp, pMain, 11008, s[i]);
            assertEquals(expected[i][0], b.attentionToRemove(), "N_attn at " + s[i]);
            assertEquals(expected[i][1], b.keptNeurons(), "k at " + s[i]);
            assertEquals(achieved[i], b.formulaSparsity(), PERCENT, "achieved at " + s[i]);
        }
    }

    @Test
    void demoModelRemovesNoneOneOne() {
        // stories260K: h = 64, d_ff = 172, L = 5, 8 heads, 4 kv heads of 8
        long pAttn = 64 * 64 + 2L * 32 * 64 + 64 * 64;
        long pMlp = 3L * 64 * 172;
        long pMain = 5 * (pAttn + pMlp + 2 * 64);
        int[] nAttn = {0, 1, 1};
        double[] s = {0.25, 0.375, 0.5};
        for (int i = 0; i < 3; i++) {
            assertEquals(nAttn[i], TwoSspBalance.compute(5, pAttn, pMlp, pMain, 172, s[i]).attentionToRemove());
        }
    }

    @Test
    void roundIsHalfToEven() {
        // exponent (P_mlp/P_attn)/α = 1 so N_attn = round(L·s) = round(2.5) = 2, not 3
        TwoSspBalance b = TwoSspBalance.compute(5, 1000, 1500, 12_500, 100, 0.5);
        assertEquals(2, b.attentionToRemove());
        // p_ffn = round((6250 − 2000)/5) = 850, k = round(100·(1 − 850/1500)) = round(43.33) = 43
        assertEquals(850, b.ffnPrunedPerBlock());
        assertEquals(43, b.keptNeurons());
    }

    @Test
    void unreachableTargetsAreRefusedClearly() {
        // attention alone overshoots: huge attention, tiny FFN share
        ShrinkException e = assertThrows(ShrinkException.class,
                () -> TwoSspBalance.compute(4, 1000, 10, 4040, 10, 0.1, 100));
        assertTrue(e.getMessage().contains("attention modules alone"), e.getMessage());
        // everything prunable is too little: blocks dominated by norm parameters
        e = assertThrows(ShrinkException.class, () -> TwoSspBalance.compute(2, 10, 10, 1000, 10, 0.9));
        assertTrue(e.getMessage().contains("cannot reach"), e.getMessage());
        assertThrows(ShrinkException.class, () -> TwoSspBalance.compute(2, 10, 10, 40, 10, 1.0));
    }
}
