package dev.shrink4j.lowrank;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.linalg.Cholesky;
import dev.shrink4j.tensors.linalg.Svd;
import org.junit.jupiter.api.Test;

class LowRankMethodsTest {
    private static final int D_OUT = 48;
    private static final int D_IN = 40;
    /** Factors are stored in F32; reconstruction sums r products. */
    private static final double F32_REL = 1e-5;

    @Test
    void truncatedSvdErrorIsTheDroppedSpectrumAndShrinksWithRank() {
        float[] w = TestMatrices.gaussian(D_OUT, D_IN, 1);
        Svd all = SvdSolver.standard().leading(Dense.toDouble(w), D_OUT, D_IN, D_IN);
        double energy = 0;
        for (double s : all.s()) energy += s * s;
        double previous = Double.POSITIVE_INFINITY;
        for (int r = 1; r <= D_IN; r += 3) {
            LowRankFactors f = new TruncatedSvd().compress(w, D_OUT, D_IN, r);
            assertEquals((long) r * (D_IN + D_OUT), f.params());
            double err = ReconstructionError.relativeFrobenius(w, f.reconstruct());
            double dropped = 0; // Eckart–Young: ‖W − W_r‖² = Σ_{i>r} σ_i²
            for (int i = r; i < D_IN; i++) dropped += all.s()[i] * all.s()[i];
            assertEquals(dropped / energy, err, F32_REL, "rank " + r);
            assertTrue(err < previous, "error must shrink with rank");
            previous = err;
        }
    }

    @Test
    void whitenedSvdBeatsPlainSvdOnActivationWeightedErrorWithCorrelatedInputs() {
        float[] w = TestMatrices.gaussian(D_OUT, D_IN, 2);
        double[] h = TestMatrices.correlatedGram(D_IN, 400, 3);
        for (int r : new int[] {4, 12, 24}) {
            float[] plain = new TruncatedSvd().compress(w, D_OUT, D_IN, r).reconstruct();
            WhitenedSvd.Result white = new WhitenedSvd().compress(w, D_OUT, D_IN, h, r);
            double ePlain = ReconstructionError.relativeWeighted(w, plain, h, D_OUT, D_IN);
            double eWhite = ReconstructionError.relativeWeighted(w, white.factors().reconstruct(), h, D_OUT, D_IN);
            assertTrue(eWhite < 0.8 * ePlain, "rank " + r + ": whitened " + eWhite + " vs plain " + ePlain);
            assertEquals(WhitenedSvd.DEFAULT_DAMP, white.damping());
        }
    }

    @Test
    void whitenedSvdIsOptimalForTheDampedGram() {
        // docs/methods/lowrank-lost.md §2: with H_δ = S Sᵀ, the layer error of Ŵ equals the dropped σ_i² of W·S exactly.
        float[] w = TestMatrices.gaussian(D_OUT, D_IN, 4);
        double[] h = TestMatrices.correlatedGram(D_IN, 300, 5);
        int r = 10;
        double damp = 0.01;
        WhitenedSvd.Result res = new WhitenedSvd(SvdSolver.standard(), damp).compress(w, D_OUT, D_IN, h, r);
        double[] hd = h.clone();
        double mean = 0;
        for (int i = 0; i < D_IN; i++) mean += h[i * D_IN + i] / D_IN;
        for (int i = 0; i < D_IN; i++) hd[i * D_IN + i] += damp * mean;
        double[] s = Cholesky.lower(hd, D_IN);
        double[] m = dev.shrink4j.tensors.linalg.Matrices.multiply(Dense.toDouble(w), false, s, false, D_OUT, D_IN, D_IN);
        Svd t = SvdSolver.standard().leading(m, D_OUT, D_IN, D_IN);
        double dropped = 0, total = 0;
        for (int i = 0; i < D_IN; i++) {
            total += t.s()[i] * t.s()[i];
            if (i >= r) dropped += t.s()[i] * t.s()[i];
        }
        double err = ReconstructionError.weighted(w, res.factors().reconstruct(), hd, D_OUT, D_IN);
        assertEquals(dropped / total, err / total, F32_REL);
    }

    @Test
    void whitenedSvdZeroesDeadColumnsAndRetriesDamping() {
        float[] w = TestMatrices.gaussian(6, 5, 6);
        // Rank-deficient H (one dead channel, two identical channels) and no damping to start from.
        double[] h = new double[25];
        for (int i = 0; i < 4; i++) h[i * 5 + i] = 1;
        h[0 * 5 + 1] = h[1 * 5 + 0] = 1;
        WhitenedSvd.Result res = new WhitenedSvd(SvdSolver.standard(), 0).compress(w, 6, 5, h, 2);
        assertEquals(1, res.deadColumns());
        assertTrue(res.damping() > 0);
        float[] what = res.factors().reconstruct();
        for (int o = 0; o < 6; o++) assertEquals(0, what[o * 5 + 4], 1e-6, "dead column 4 carries no weight");
    }

    @Test
    void asvdEqualsPlainSvdUnderUniformActivationsAndWinsUnderSkewedOnes() {
        float[] w = TestMatrices.gaussian(D_OUT, D_IN, 7);
        int r = 8;
        double[] uniform = new double[D_IN];
        java.util.Arrays.fill(uniform, 0.3);
        float[] plain = new TruncatedSvd().compress(w, D_OUT, D_IN, r).reconstruct();
        float[] flat = new ActivationScaledSvd().compress(w, D_OUT, D_IN, uniform, r).reconstruct();
        for (int i = 0; i < plain.length; i++) assertEquals(plain[i], flat[i], 1e-5);

        double[] skew = new double[D_IN];
        double[] h = new double[D_IN * D_IN]; // independent channels: H = diag(E x_i²)
        java.util.SplittableRandom rng = new java.util.SplittableRandom(8);
        for (int i = 0; i < D_IN; i++) {
            skew[i] = Math.exp(2 * TestMatrices.gauss(rng));
            h[i * D_IN + i] = skew[i] * skew[i];
        }
        float[] scaled = new ActivationScaledSvd().compress(w, D_OUT, D_IN, skew, r).reconstruct();
        double ePlain = ReconstructionError.relativeWeighted(w, plain, h, D_OUT, D_IN);
        double eScaled = ReconstructionError.relativeWeighted(w, scaled, h, D_OUT, D_IN);
        assertTrue(eScaled < ePlain, "ASVD " + eScaled + " vs plain " + ePlain);
    }
}
