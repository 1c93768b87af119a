package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EssentialPointTest {
    static double[] grid() {
        double[] p = new double[19];
        for (int i = 0; i < p.length; i++) {
            p[i] = i * 0.05;
        }
        return p;
    }

    @Test
    void flatThenSteepCurve() {
        double[] p = grid();
        double[] ppl = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            // log ppl grows slowly to 40 %, then 20× faster
            double logPpl = Math.log(10) + 0.02 * p[i] + (p[i] > 0.4 ? 4.0 * (p[i] - 0.4) : 0);
            ppl[i] = Math.exp(logPpl);
        }
        // degradation at 0.45: exp(0.009 + 0.2) − 1 > 1 %, at 0.40: exp(0.008) − 1 < 1 %
        assertEquals(8, EssentialPoint.tolerance(p, ppl, 0.01));
        EssentialPoint.Knee knee = EssentialPoint.knee(p, ppl);
        assertEquals(8, knee.index());
        assertTrue(knee.accepted());
        assertEquals(4.02, knee.slopeAfter(), 1e-9);
        assertEquals(0.02, knee.slopeBefore(), 1e-9);
    }

    @Test
    void straightLineHasNoSharpKnee() {
        double[] p = grid();
        double[] ppl = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            ppl[i] = Math.exp(2 + p[i] + 1e-3 * Math.sin(7 * i));
        }
        assertFalse(EssentialPoint.knee(p, ppl).accepted());
        assertEquals(0, EssentialPoint.tolerance(p, ppl, 0.01));
    }
}
