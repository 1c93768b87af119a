package dev.shrink4j.tensors.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SymmetricEigenTest {
    private static final double RECON_TOL = 1e-13;
    private static final double ORTHO_TOL = 1e-12;
    private static final double VALUE_TOL = 1e-13;

    @Test
    void handComputed() {
        // [[2, 1], [1, 2]]: eigenvalues 1 and 3, vectors (1, −1)/√2 and (1, 1)/√2
        SymmetricEigen e = SymmetricEigen.of(new double[] {2, 1, 1, 2}, 2);
        assertArrayEquals(new double[] {1, 3}, e.values(), 1e-15);
        double h = Math.sqrt(0.5);
        assertEquals(h, Math.abs(e.vectors()[0]), 1e-15);
        assertEquals(-e.vectors()[0], e.vectors()[2], 1e-15);
        assertEquals(e.vectors()[1], e.vectors()[3], 1e-15);
        SymmetricEigen one = SymmetricEigen.of(new double[] {-4}, 1);
        assertArrayEquals(new double[] {-4}, one.values(), 0.0);
    }

    @Test
    void prescribedSpectra() {
        Random rnd = new Random(31);
        for (int n : new int[] {3, 17, 64, 150}) {
            double[][] spectra = {
                Gen.geometric(n, 1e12), // ill-conditioned SPD
                indefinite(n), // mixed signs with repeated values
                rankDeficient(n),
            };
            for (double[] lambda : spectra) {
                double[] a = Gen.symmetricWithEigenvalues(rnd, lambda);
                SymmetricEigen e = SymmetricEigen.of(a, n);
                double[] sorted = lambda.clone();
                Arrays.sort(sorted);
                for (int i = 0; i < n; i++) {
                    assertEquals(sorted[i], e.values()[i], VALUE_TOL * n, "n=" + n + " λ" + i);
                }
                assertTrue(Gen.orthogonalityError(e.vectors(), n, n) < ORTHO_TOL * n);
                double[] vl = e.vectors().clone();
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        vl[i * n + j] *= e.values()[j];
                    }
                }
                double[] back = Matrices.multiply(vl, false, e.vectors(), true, n, n, n);
                assertTrue(Gen.relDiff(back, a) < RECON_TOL * n, "n=" + n + " err " + Gen.relDiff(back, a));
            }
        }
    }

    private static double[] indefinite(int n) {
        double[] l = new double[n];
        for (int i = 0; i < n; i++) {
            l[i] = (i % 3 == 0 ? -1 : 1) * (1 + (i / 4));
        }
        return l;
    }

    private static double[] rankDeficient(int n) {
        double[] l = new double[n];
        for (int i = 0; i < n / 3; i++) {
            l[i] = i + 1;
        }
        return l;
    }
}
