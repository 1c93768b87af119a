package dev.shrink4j.tensors.linalg.internal;

/**
 * Blocked Householder reduction A = Q B Pᵀ of a tall (m, n) matrix (m ≥ n) to upper bidiagonal B,
 * as LAPACK's gebrd/labrd: each panel of {@link #NB} steps accumulates X (m, nb) and Y (n, nb) so that
 * the trailing update is two GEMMs, A ← A − V Yᵀ − X Uᵀ; the two matrix–vector products per step
 * over the trailing matrix remain (half the flops, memory bound, as in LAPACK).
 *
 * <p>On return {@code a} holds the left reflector tails below the diagonal (column g, rows g+1..m)
 * and the right reflector tails right of the superdiagonal (row g, columns g+2..n).
 */
public final class Bidiagonalization {
    static final int NB = 32;
    /** Reflectors per block when forming Q and P: wider blocks make the rank-k updates less memory bound. */
    static final int FORM_NB = 128;
    private static final VectorOps OPS = VectorOps.get();

    public final int m;
    public final int n;
    public final double[] a; // (m, n) reflector storage
    public final double[] d; // (n) diagonal of B
    public final double[] e; // (n) superdiagonal of B, e[n−1] = 0
    final double[] tauq; // (n)
    final double[] taup; // (n)

    private Bidiagonalization(int m, int n, double[] a) {
        this.m = m;
        this.n = n;
        this.a = a;
        this.d = new double[n];
        this.e = new double[n];
        this.tauq = new double[n];
        this.taup = new double[n];
    }

    /** Reduces {@code a} (m, n), m ≥ n, in place. */
    public static Bidiagonalization reduce(double[] a, int m, int n) {
        Bidiagonalization b = new Bidiagonalization(m, n, a);
        for (int s = 0; s < n; s += NB) {
            int nb = Math.min(NB, n - s);
            b.panel(s, nb);
        }
        return b;
    }

    /**
     * One labrd panel on A[s:m, s:n] of nb steps, then the GEMM trailing update. Within the panel the
     * pass that forms X's column i (a dot product per row of the trailing matrix) also applies step
     * i+1's update to column g+1 and accumulates Aᵀ·(that column) for step i+1's Y, while the row is
     * in cache: one sweep over the trailing matrix per step instead of LAPACK's two.
     */
    private void panel(int s, int nb) {
        int mr = m - s; // rows of X
        int nr = n - s; // rows of Y
        double[] x = new double[mr * nb]; // X (m−s, nb), rows indexed by global row − s
        double[] y = new double[nr * nb]; // Y (n−s, nb), rows indexed by global column − s
        double[] tmpA = new double[nb];
        double[] tmpB = new double[nb];
        double[] beta = new double[1];
        double[] z = new double[nr]; // Aᵀ·(next column tail, unnormalized) from the fused pass
        double[] sA = new double[nb]; // A[:, s:g+1]ᵀ·(same tail)
        double[] sB = new double[nb]; // X[:, 0:i+1]ᵀ·(same tail)
        boolean fused = false; // column g already updated and z filled by the previous step
        for (int i = 0; i < nb; i++) {
            int g = s + i;
            int len = n - g - 1; // columns g+1..n
            // 1. update column g (rows g..m) with the panel's earlier steps
            if (i > 0 && !fused) {
                updateColumn(s, i, g, g, x, y, nb);
            }
            // 2. left reflector annihilating A[g+1:m, g]
            double alpha = a[g * n + g];
            tauq[g] = Householder.generate(alpha, a, (g + 1) * n + g, n, m - g - 1, beta);
            d[g] = beta[0];
            a[g * n + g] = 1.0;
            if (g >= n - 1) {
                taup[g] = 0.0;
                e[g] = 0.0;
                continue;
            }
            double tq = tauq[g];
            // 3. Y[g+1−s.., i] = τq (A[g:m, g+1:n]ᵀ u − Y_prev (A_prevᵀ u) − A_rowsᵀ (X_prevᵀ u))
            double[] yv = new double[len];
            if (fused) {
                // z, sA, sB hold Aᵀc, A_prevᵀc, X_prevᵀc over the column tail c (rows g+1..m) before
                // the reflector scaled it by 1/(α − β); u = (1, c/(α − β)).
                double inv = tq != 0.0 ? 1.0 / (alpha - beta[0]) : 0.0;
                int ag = g * n + g + 1;
                for (int c = 0; c < len; c++) {
                    yv[c] = a[ag + c] + inv * z[c];
                }
                int xg = (g - s) * nb;
                for (int p = 0; p < i; p++) {
                    tmpA[p] = a[g * n + s + p] + inv * sA[p];
                    tmpB[p] = x[xg + p] + inv * sB[p];
                }
            } else {
                java.util.Arrays.fill(tmpA, 0, i, 0.0);
                java.util.Arrays.fill(tmpB, 0, i, 0.0);
                for (int r = g; r < m; r++) {
                    double u = a[r * n + g];
                    if (u == 0.0) {
                        continue;
                    }
                    int ar = r * n + g + 1;
                    for (int c = 0; c < len; c++) {
                        yv[c] += u * a[ar + c];
                    }
                    int ap = r * n + s;
                    int xr = (r - s) * nb;
                    for (int p = 0; p < i; p++) {
                        tmpA[p] += a[ap + p] * u;
                        tmpB[p] += x[xr + p] * u;
                    }
                }
            }
            if (i > 0) {
                for (int c = 0; c < len; c++) {
                    int yr = (g + 1 - s + c) * nb;
                    double acc = 0.0;
                    for (int p = 0; p < i; p++) {
                        acc += y[yr + p] * tmpA[p];
                    }
                    yv[c] -= acc;
                }
                for (int p = 0; p < i; p++) {
                    double f = tmpB[p];
                    if (f == 0.0) {
                        continue;
                    }
                    int ar = (s + p) * n + g + 1;
                    for (int c = 0; c < len; c++) {
                        yv[c] -= f * a[ar + c];
                    }
                }
            }
            for (int c = 0; c < len; c++) {
                y[(g + 1 - s + c) * nb + i] = tq * yv[c];
            }
            // 4. update row g (columns g+1..n)
            int ag = g * n + g + 1;
            for (int c = 0; c < len; c++) {
                int yr = (g + 1 - s + c) * nb;
                double acc = 0.0;
                for (int p = 0; p <= i; p++) {
                    acc += y[yr + p] * a[g * n + s + p];
                }
                a[ag + c] -= acc;
            }
            int xg = (g - s) * nb;
            for (int p = 0; p < i; p++) {
                double f = x[xg + p];
                if (f == 0.0) {
                    continue;
                }
                int ar = (s + p) * n + g + 1;
                for (int c = 0; c < len; c++) {
                    a[ag + c] -= f * a[ar + c];
                }
            }
            // 5. right reflector annihilating A[g, g+2:n]
            taup[g] = Householder.generate(a[ag], a, ag + 1, 1, len - 1, beta);
            e[g] = beta[0];
            a[ag] = 1.0;
            double tp = taup[g];
            // 6. X[g+1−s.., i] = τp (A[g+1:m, g+1:n] v − A_cols (Y_prevᵀ v) − X_prev (A_rows v)),
            //    fused with step i+1's column update and its Aᵀ·column product
            java.util.Arrays.fill(tmpA, 0, i + 1, 0.0);
            for (int c = 0; c < len; c++) {
                int yr = (g + 1 - s + c) * nb;
                double v = a[ag + c];
                for (int p = 0; p <= i; p++) {
                    tmpA[p] += y[yr + p] * v;
                }
            }
            for (int p = 0; p < i; p++) {
                tmpB[p] = dot(a, (s + p) * n + g + 1, a, ag, len);
            }
            boolean fuseNext = i + 1 < nb;
            int len2 = len - 1; // columns g+2..n for step i+1
            if (fuseNext) {
                java.util.Arrays.fill(z, 0, Math.max(len2, 0), 0.0);
                java.util.Arrays.fill(sA, 0.0);
                java.util.Arrays.fill(sB, 0.0);
            }
            int yn = (g + 1 - s) * nb; // Y row of column g+1
            // rows in pairs: the pending axpy of one row is merged with the next row's, so z is
            // loaded and stored once per two rows
            int pending = -1; // row whose z-update is deferred
            double pendingV = 0.0;
            double[] dots = new double[2];
            for (int r = g + 1; r < m; r++) {
                int ar = r * n;
                double acc;
                if (((r - g - 1) & 1) == 0) { // the dots of rows r and r+1 share the loads of v
                    if (r + 1 < m) {
                        OPS.dot2(a, ar + g + 1, ar + n + g + 1, a, ag, len, dots);
                    } else {
                        dots[0] = dot(a, ar + g + 1, a, ag, len);
                    }
                    acc = dots[0];
                } else {
                    acc = dots[1];
                }
                int xr = (r - s) * nb;
                for (int p = 0; p <= i; p++) {
                    acc -= a[ar + s + p] * tmpA[p];
                }
                for (int p = 0; p < i; p++) {
                    acc -= x[xr + p] * tmpB[p];
                }
                x[xr + i] = tp * acc;
                if (fuseNext) {
                    double upd = 0.0;
                    for (int p = 0; p <= i; p++) {
                        upd += a[ar + s + p] * y[yn + p] + x[xr + p] * a[(s + p) * n + g + 1];
                    }
                    double v = a[ar + g + 1] - upd;
                    a[ar + g + 1] = v;
                    if (r >= g + 2 && v != 0.0) {
                        for (int p = 0; p <= i; p++) {
                            sA[p] += a[ar + s + p] * v;
                            sB[p] += x[xr + p] * v;
                        }
                        if (pending < 0) {
                            pending = r;
                            pendingV = v;
                        } else {
                            int src1 = pending * n + g + 2;
                            int src2 = ar + g + 2;
                            double v1 = pendingV;
                            for (int c = 0; c < len2; c++) {
                                z[c] += v1 * a[src1 + c] + v * a[src2 + c];
                            }
                            pending = -1;
                        }
                    }
                }
            }
            if (pending >= 0) {
                int src1 = pending * n + g + 2;
                for (int c = 0; c < len2; c++) {
                    z[c] += pendingV * a[src1 + c];
                }
            }
            fused = fuseNext;
        }
        // trailing update: A[s+nb:m, s+nb:n] −= A[s+nb:m, s:s+nb] Y[nb:, :]ᵀ + X[nb:, :] A[s:s+nb, s+nb:n]
        int t0 = s + nb;
        if (t0 < n) {
            Dgemm.gemm(false, true, m - t0, n - t0, nb, -1.0, a, t0 * n + s, n, y, nb * nb, nb, 1.0, a, t0 * n + t0, n);
            Dgemm.gemm(false, false, m - t0, n - t0, nb, -1.0, x, nb * nb, nb, a, s * n + t0, n, 1.0, a, t0 * n + t0, n);
        }
        for (int i = 0; i < nb; i++) {
            int g = s + i;
            a[g * n + g] = d[g];
            if (g + 1 < n) {
                a[g * n + g + 1] = e[g];
            }
        }
    }

    /** Step 1 of labrd: A[r0:m, g] −= A[r0:m, s:g] Y[g−s, 0:i]ᵀ + X[r0−s:, 0:i] A[s:g, g]. */
    private void updateColumn(int s, int i, int g, int r0, double[] x, double[] y, int nb) {
        int yg = (g - s) * nb;
        for (int r = r0; r < m; r++) {
            int ar = r * n;
            int xr = (r - s) * nb;
            double acc = 0.0;
            for (int p = 0; p < i; p++) {
                acc += a[ar + s + p] * y[yg + p] + x[xr + p] * a[(s + p) * n + g];
            }
            a[ar + g] -= acc;
        }
    }

    private static double dot(double[] x, int xo, double[] y, int yo, int len) {
        return OPS.dot(x, xo, y, yo, len);
    }

    /** Qᵀ restricted to its first n rows, i.e. (Q thin)ᵀ: (n, m). */
    public double[] qTransposed() {
        double[] q = new double[m * n]; // (m, n) thin Q
        for (int i = 0; i < n; i++) {
            q[i * n + i] = 1.0;
        }
        int last = ((n - 1) / FORM_NB) * FORM_NB;
        for (int j0 = last; j0 >= 0; j0 -= FORM_NB) {
            int jb = Math.min(FORM_NB, n - j0);
            int len = m - j0;
            double[] v = new double[len * jb];
            for (int r = 0; r < len; r++) {
                for (int c = 0; c < jb; c++) {
                    v[r * jb + c] = r > c ? a[(j0 + r) * n + j0 + c] : (r == c ? 1.0 : 0.0);
                }
            }
            double[] t = new double[jb * jb];
            Householder.formT(len, jb, v, tauq, j0, t);
            Householder.applyLeft(false, len, jb, v, t, q, j0 * n + j0, n, n - j0);
        }
        return transpose(q, m, n);
    }

    /** Pᵀ (n, n). */
    public double[] pTransposed() {
        double[] p = new double[n * n];
        for (int i = 0; i < n; i++) {
            p[i * n + i] = 1.0;
        }
        int count = n - 1; // right reflectors g = 0..n−2 act on columns g+1..n
        if (count > 0) {
            int last = ((count - 1) / FORM_NB) * FORM_NB;
            for (int g0 = last; g0 >= 0; g0 -= FORM_NB) {
                int kb = Math.min(FORM_NB, count - g0);
                int len = n - g0 - 1;
                double[] v = new double[len * kb];
                for (int c = 0; c < len; c++) {
                    for (int q = 0; q < kb; q++) {
                        v[c * kb + q] = c > q ? a[(g0 + q) * n + g0 + 1 + c] : (c == q ? 1.0 : 0.0);
                    }
                }
                double[] t = new double[kb * kb];
                Householder.formT(len, kb, v, taup, g0, t);
                int o = (g0 + 1) * n + g0 + 1;
                Householder.applyLeft(false, len, kb, v, t, p, o, n, n - g0 - 1);
            }
        }
        return transpose(p, n, n);
    }

    static double[] transpose(double[] a, int rows, int cols) {
        double[] t = new double[rows * cols];
        final int blk = 32;
        for (int i0 = 0; i0 < rows; i0 += blk) {
            int i1 = Math.min(rows, i0 + blk);
            for (int j0 = 0; j0 < cols; j0 += blk) {
                int j1 = Math.min(cols, j0 + blk);
                for (int i = i0; i < i1; i++) {
                    for (int j = j0; j < j1; j++) {
                        t[j * rows + i] = a[i * cols + j];
                    }
                }
            }
        }
        return t;
    }
}
