package dev.shrink4j.tensors.linalg;

/**
 * Small dense least-squares and ridge solves in fp64 (LNQ's codebook step, docs/methods/guidedquant-lnq.md §5.3,
 * solves (PᵀHP + λI) c = PᵀHw with m ≤ 256).
 */
public final class LeastSquares {
    private LeastSquares() {}

    /**
     * min ‖A X − B‖_F for A (m, n) of full column rank, m ≥ n, by Householder QR (no normal
     * equations, so the error grows with κ(A), not κ(A)²). Returns X (n, nrhs); A and B are not modified.
     */
    public static double[] solve(double[] a, int m, int n, double[] b, int nrhs) {
        if (b.length < (long) m * nrhs) {
            throw new IllegalArgumentException("right-hand side: expected (" + m + ", " + nrhs + "), got " + b.length + " values");
        }
        return Qr.factor(a.clone(), m, n).solveLeastSquares(b, nrhs);
    }

    /**
     * Solves (G + λI) x = r for a symmetric positive semi-definite G (n, n) and λ ≥ 0 by Cholesky. If
     * the shifted matrix is not numerically positive definite (λ = 0 and G singular, e.g. an empty
     * cluster), returns the minimum-norm least-squares solution through the eigendecomposition,
     * discarding eigenvalues below n·ε·max|λ_i|.
     *
     * @param g (n, n) symmetric; not modified
     * @param r (n) right-hand side; not modified
     */
    public static double[] solveRidge(double[] g, int n, double[] r, double lambda) {
        if (!(lambda >= 0)) {
            throw new IllegalArgumentException("ridge λ must be ≥ 0, got " + lambda);
        }
        double[] work = g.clone();
        for (int i = 0; i < n; i++) {
            work[i * n + i] += lambda;
        }
        double[] x = r.clone();
        if (Cholesky.tryFactorUpper(work, n) < 0) {
            Triangular.solveUpperTransposed(work, n, x, 1);
            Triangular.solveUpper(work, n, x, 1);
            return x;
        }
        double[] shifted = g.clone();
        for (int i = 0; i < n; i++) {
            shifted[i * n + i] += lambda;
        }
        SymmetricEigen eig = SymmetricEigen.of(shifted, n);
        double max = 0;
        for (double v : eig.values()) {
            max = Math.max(max, Math.abs(v));
        }
        double cut = n * Math.ulp(1.0) * max;
        double[] v = eig.vectors();
        double[] out = new double[n];
        for (int j = 0; j < n; j++) {
            double lj = eig.values()[j];
            if (Math.abs(lj) <= cut) {
                continue;
            }
            double proj = 0;
            for (int i = 0; i < n; i++) {
                proj += v[i * n + j] * r[i];
            }
            proj /= lj;
            for (int i = 0; i < n; i++) {
                out[i] += proj * v[i * n + j];
            }
        }
        return out;
    }
}
