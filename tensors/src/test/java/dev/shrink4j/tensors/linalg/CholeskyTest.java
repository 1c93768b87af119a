package dev.shrink4j.tensors.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CholeskyTest {
    /** Backward-stable factorizations: relative reconstruction error a small multiple of n·ε. */
    private static final double RECON_TOL = 1e-13;
    /** Inverses and solves lose a factor κ(A); the test matrices keep κ ≤ 1e4. */
    private static final double SOLVE_TOL = 1e-10;
    private static final double EXACT = 1e-15;

    @Test
    void handComputedThreeByThree() {
        // A = UᵀU with U = [[2, 1, -1], [0, 3, 2], [0, 0, 1]]
        double[] a = {4, 2, -2, 2, 10, 5, -2, 5, 6};
        double[] u = Cholesky.upper(a, 3);
        assertArrayEquals(new double[] {2, 1, -1, 0, 3, 2, 0, 0, 1}, u, EXACT);
        double[] l = Cholesky.lower(a, 3);
        assertArrayEquals(new double[] {2, 0, 0, 1, 3, 0, -1, 2, 1}, l, EXACT);
    }

    @Test
    void reconstructsAcrossRecursionSizes() {
        Random rnd = new Random(11);
        for (int n : new int[] {1, 2, 5, 47, 48, 49, 97, 130, 300}) {
            double[] a = spd(rnd, n, 1e3);
            double[] u = Cholesky.upper(a, n);
            for (int i = 1; i < n; i++) {
                for (int j = 0; j < i; j++) {
                    assertEquals(0.0, u[i * n + j], "strict lower triangle must be zero, n=" + n);
                }
            }
            double[] back = Matrices.multiply(u, true, u, false, n, n, n);
            assertTrue(Gen.relDiff(back, a) < RECON_TOL * n, "n=" + n + " err=" + Gen.relDiff(back, a));
            double[] l = Cholesky.lower(a, n);
            double[] back2 = Matrices.multiply(l, false, l, true, n, n, n);
            assertTrue(Gen.relDiff(back2, a) < RECON_TOL * n);
        }
    }

    @Test
    void readsOnlyTheUpperTriangle() {
        Random rnd = new Random(12);
        int n = 130;
        double[] a = spd(rnd, n, 10);
        double[] upperOnly = a.clone();
        for (int i = 1; i < n; i++) {
            for (int j = 0; j < i; j++) {
                upperOnly[i * n + j] = Double.NaN;
            }
        }
        assertArrayEquals(Cholesky.upper(a, n), Cholesky.upper(upperOnly, n), EXACT);
        assertArrayEquals(Spd.inverseUpperFactor(a, n), Spd.inverseUpperFactor(upperOnly, n), EXACT);
    }

    @Test
    void reportsTheFailingPivotInsteadOfNaN() {
        Random rnd = new Random(13);
        int n = 120;
        int rank = 70;
        double[] b = Gen.gaussian(rnd, rank, n);
        double[] a = Matrices.multiply(b, true, b, false, n, n, rank); // PSD of rank 70
        for (int i = 0; i < n * n; i++) {
            a[i] = 0;
        }
        // block diagonal: SPD leading 70×70, then a negative pivot at 70
        double[] s = spd(rnd, rank, 10);
        for (int i = 0; i < rank; i++) {
            System.arraycopy(s, i * rank, a, i * n, rank);
        }
        for (int i = rank; i < n; i++) {
            a[i * n + i] = i == rank ? -1.0 : 1.0;
        }
        double[] work = a.clone();
        assertEquals(rank, Cholesky.tryFactorUpper(work, n));
        NotPositiveDefiniteException e = assertThrows(NotPositiveDefiniteException.class, () -> Cholesky.upper(a, n));
        assertEquals(rank, e.pivot());
        // the GPTQ factor reports pivots in H's own ordering (it factors the reversed matrix)
        double[] tail = Matrices.identity(n);
        tail[(n - 1) * n + n - 1] = -1.0;
        assertEquals(n - 1, Spd.tryInverseUpperFactor(tail.clone(), n));
        assertEquals(n - 1, assertThrows(NotPositiveDefiniteException.class, () -> Spd.inverseUpperFactor(tail, n)).pivot());
        double[] nan = a.clone();
        nan[3 * n + 3] = Double.NaN;
        assertEquals(3, Cholesky.tryFactorUpper(nan, n));
    }

    @Test
    void triangularSolvesAndInverses() {
        Random rnd = new Random(14);
        for (int n : new int[] {1, 3, 48, 61, 150}) {
            int m = 7;
            double[] u = Cholesky.upper(spd(rnd, n, 100), n);
            double[] l = Matrices.transpose(u, n, n);
            double[] x = Gen.gaussian(rnd, n, m);
            // U X = B, Uᵀ X = B, L X = B, Lᵀ X = B
            check(x, Matrices.multiply(u, false, x, false, n, m, n), b -> Triangular.solveUpper(u, n, b, m));
            check(x, Matrices.multiply(u, true, x, false, n, m, n), b -> Triangular.solveUpperTransposed(u, n, b, m));
            check(x, Matrices.multiply(l, false, x, false, n, m, n), b -> Triangular.solveLower(l, n, b, m));
            check(x, Matrices.multiply(l, true, x, false, n, m, n), b -> Triangular.solveLowerTransposed(l, n, b, m));
            double[] y = Gen.gaussian(rnd, m, n);
            check(y, Matrices.multiply(y, false, u, false, m, n, n), b -> Triangular.solveUpperRight(u, n, b, m));
            check(y, Matrices.multiply(y, false, u, true, m, n, n), b -> Triangular.solveUpperTransposedRight(u, n, b, m));
            check(y, Matrices.multiply(y, false, l, false, m, n, n), b -> Triangular.solveLowerRight(l, n, b, m));
            double[] yu = y.clone();
            Triangular.multiplyUpperRight(u, n, yu, m);
            assertTrue(Gen.relDiff(yu, Matrices.multiply(y, false, u, false, m, n, n)) < RECON_TOL * n);

            double[] ui = u.clone();
            Triangular.invertUpper(ui, n);
            assertTrue(Gen.relDiff(Matrices.multiply(u, false, ui, false, n, n, n), Matrices.identity(n)) < SOLVE_TOL);
            double[] li = l.clone();
            Triangular.invertLower(li, n);
            assertTrue(Gen.relDiff(Matrices.multiply(li, false, l, false, n, n, n), Matrices.identity(n)) < SOLVE_TOL);
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    assertEquals(0.0, li[i * n + j], "inverse of lower stays lower");
                }
            }
        }
    }

    @Test
    void spdInverseSolveAndGptqFactor() {
        Random rnd = new Random(15);
        for (int n : new int[] {1, 4, 50, 129, 200}) {
            double[] a = spd(rnd, n, 1e3);
            double[] inv = Spd.inverse(a, n);
            assertTrue(Gen.relDiff(Matrices.multiply(a, false, inv, false, n, n, n), Matrices.identity(n)) < SOLVE_TOL, "n=" + n);
            double[] b = Gen.gaussian(rnd, n, 3);
            double[] x = Spd.solve(a, n, b, 3);
            assertTrue(Gen.relDiff(Matrices.multiply(a, false, x, false, n, 3, n), b) < SOLVE_TOL);
            // GPTQ: upper U with UᵀU = H⁻¹, equal to the three-step reference (chol → inverse → upper chol)
            double[] u = Spd.inverseUpperFactor(a, n);
            double[] reference = Cholesky.upper(inv, n);
            assertTrue(Gen.relDiff(u, reference) < SOLVE_TOL, "n=" + n + " err=" + Gen.relDiff(u, reference));
            for (int i = 0; i < n; i++) {
                assertTrue(u[i * n + i] > 0);
                for (int j = 0; j < i; j++) {
                    assertEquals(0.0, u[i * n + j]);
                }
            }
        }
    }

    @Test
    void dampingRetriesUntilFactorable() {
        Random rnd = new Random(16);
        int n = 60;
        // PSD of rank 20 plus a negative eigenvalue: −0.5·mean(diag) needs δ ≥ 1 (0.01 → 0.1 → 1: two retries)
        double[] lambda = new double[n];
        for (int i = 0; i < 20; i++) {
            lambda[i] = 1 + i;
        }
        lambda[n - 1] = -0.5 * (210.0 / n) * 1.001;
        double[] h = Gen.symmetricWithEigenvalues(rnd, lambda);
        double mean = Matrices.meanDiagonal(h, n);
        List<Double> failed = new ArrayList<>();
        Damping.Result r = Damping.factor(h, n, Damping.Factor.UPPER, Damping.Policy.GPTQ, (d, p, next) -> failed.add(d));
        assertEquals(List.of(0.01, 0.1), failed.stream().map(d -> Math.round(d * 1000) / 1000.0).toList());
        assertEquals(2, r.retries());
        assertEquals(1.0, r.delta(), 1e-12);
        assertEquals(mean, r.added(), 1e-12 * mean);
        double[] damped = h.clone();
        for (int i = 0; i < n; i++) {
            damped[i * n + i] += r.added();
        }
        double[] u = r.factor();
        assertTrue(Gen.relDiff(Matrices.multiply(u, true, u, false, n, n, n), damped) < RECON_TOL * n);

        // LNQ schedule starts undamped; an SPD matrix needs no damping at all
        Damping.Result clean = Damping.factor(spd(rnd, n, 10), n, Damping.Factor.INVERSE_UPPER, Damping.Policy.LNQ, null);
        assertEquals(0, clean.retries());
        assertEquals(0.0, clean.delta());

        double[] hopeless = Matrices.identity(n);
        hopeless[5 * n + 5] = -1e9;
        assertThrows(NotPositiveDefiniteException.class,
                () -> Damping.factor(hopeless, n, Damping.Factor.LOWER, Damping.Policy.LNQ, null));
    }

    private interface Solver {
        void solve(double[] b);
    }

    private static void check(double[] x, double[] b, Solver s) {
        s.solve(b);
        assertTrue(Gen.relDiff(b, x) < SOLVE_TOL, "err=" + Gen.relDiff(b, x));
    }

    /** SPD with condition number cond. */
    static double[] spd(Random rnd, int n, double cond) {
        return Gen.symmetricWithEigenvalues(rnd, Gen.geometric(n, cond));
    }
}
