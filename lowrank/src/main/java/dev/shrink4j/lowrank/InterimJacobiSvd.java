package dev.shrink4j.lowrank;

/**
 * Exact thin SVD by one-sided (Hestenes) Jacobi rotations, in fp64. Interim: it exists only until
 * the tensors module's linalg SVD lands, after which {@link SvdSolver#standard()} delegates there and
 * this class is deleted. Cost O(sweeps·m·n²); fine for the small matrices of tests and the demo model.
 */
final class InterimJacobiSvd implements SvdSolver {
    static final InterimJacobiSvd INSTANCE = new InterimJacobiSvd();
    private static final int MAX_SWEEPS = 60;
    private static final double EPS = 1e-15;

    private InterimJacobiSvd() {}

    @Override
    public Triplets leading(double[] a, int m, int n, int rank) {
        if (rank < 1 || rank > Math.min(m, n)) throw new IllegalArgumentException("rank " + rank + " outside [1, " + Math.min(m, n) + "]");
        boolean transpose = m < n; // rotate columns of the taller orientation
        int rows = transpose ? n : m;
        int cols = transpose ? m : n;
        double[][] g = new double[cols][rows]; // column-major copy of the (rows, cols) matrix
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                if (transpose) g[i][j] = a[i * n + j];
                else g[j][i] = a[i * n + j];
            }
        }
        double[][] v = new double[cols][cols];
        for (int j = 0; j < cols; j++) v[j][j] = 1;
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            boolean rotated = false;
            for (int p = 0; p < cols - 1; p++) {
                for (int q = p + 1; q < cols; q++) {
                    double alpha = 0, beta = 0, gamma = 0;
                    double[] gp = g[p], gq = g[q];
                    for (int k = 0; k < rows; k++) {
                        alpha += gp[k] * gp[k];
                        beta += gq[k] * gq[k];
                        gamma += gp[k] * gq[k];
                    }
                    if (gamma == 0 || Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta)) continue;
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    if (zeta == 0) t = 1;
                    double c = 1 / Math.sqrt(1 + t * t);
                    double s = c * t;
                    rotate(gp, gq, c, s);
                    rotate(v[p], v[q], c, s);
                }
            }
            if (!rotated) break;
        }
        double[] sigma = new double[cols];
        Integer[] order = new Integer[cols];
        for (int j = 0; j < cols; j++) {
            double ss = 0;
            for (double x : g[j]) ss += x * x;
            sigma[j] = Math.sqrt(ss);
            order[j] = j;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(sigma[y], sigma[x]));
        // Left vectors of the rotated orientation are g_j/σ_j, right ones are v_j; swap back if transposed.
        double[] uOut = new double[m * rank];
        double[] vOut = new double[n * rank];
        double[] sOut = new double[rank];
        for (int i = 0; i < rank; i++) {
            int j = order[i];
            sOut[i] = sigma[j];
            double inv = sigma[j] > 0 ? 1 / sigma[j] : 0;
            for (int k = 0; k < rows; k++) {
                double left = g[j][k] * inv;
                if (transpose) vOut[k * rank + i] = left;
                else uOut[k * rank + i] = left;
            }
            for (int k = 0; k < cols; k++) {
                if (transpose) uOut[k * rank + i] = v[j][k];
                else vOut[k * rank + i] = v[j][k];
            }
        }
        return new Triplets(m, n, rank, uOut, sOut, vOut);
    }

    private static void rotate(double[] x, double[] y, double c, double s) {
        for (int k = 0; k < x.length; k++) {
            double xp = x[k], yq = y[k];
            x[k] = c * xp - s * yq;
            y[k] = s * xp + c * yq;
        }
    }
}
