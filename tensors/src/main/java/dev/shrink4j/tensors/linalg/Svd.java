package dev.shrink4j.tensors.linalg;

import dev.shrink4j.tensors.linalg.internal.BidiagonalQr;
import dev.shrink4j.tensors.linalg.internal.Bidiagonalization;

/**
 * Thin singular value decomposition A = U diag(s) Vᵀ of an (m, n) matrix, fp64, k = min(m, n).
 * Exact path ({@link #of}): tall inputs (m ≥ 1.5 n) are first reduced by a blocked QR; the (square
 * or moderately tall) remainder by blocked Householder bidiagonalization (LAPACK gebrd-style, half
 * the flops in GEMM); then implicit-shift Golub–Kahan QR on the bidiagonal with its rotations
 * replayed onto Uᵀ and Vᵀ in cache-sized strips. Wide inputs are handled through Aᵀ.
 * Singular values are sorted descending and non-negative. For a few leading triplets of a large
 * matrix use {@link RandomizedSvd}.
 *
 * @param m  rows of A
 * @param n  columns of A
 * @param k  min(m, n), or the kept rank after {@link #truncate}
 * @param u  (m, k) left singular vectors as columns
 * @param s  (k) singular values, descending
 * @param vt (k, n) right singular vectors as rows
 */
public record Svd(int m, int n, int k, double[] u, double[] s, double[] vt) {
    /** Below this aspect ratio bidiagonalize directly; above it reduce with QR first. */
    private static final double QR_FIRST_RATIO = 1.5;

    /** Exact thin SVD of A (m, n); A is not modified. Throws {@link IllegalArgumentException} on NaN or infinite entries. */
    public static Svd of(double[] a, int m, int n) {
        check(a, m, n);
        if (m >= n) {
            return tall(a.clone(), m, n, true);
        }
        Svd t = tall(Matrices.transpose(a, m, n), n, m, true); // Aᵀ = U' S V'ᵀ ⇒ A = V' S U'ᵀ
        return new Svd(m, n, m, Matrices.transpose(t.vt, m, m), t.s, Matrices.transpose(t.u, n, m));
    }

    /** Singular values only (descending), cheaper than {@link #of}. */
    public static double[] values(double[] a, int m, int n) {
        check(a, m, n);
        double[] w = m >= n ? a.clone() : Matrices.transpose(a, m, n);
        return tall(w, Math.max(m, n), Math.min(m, n), false).s;
    }

    /** SVD of a tall (m, n) matrix, m ≥ n, consuming {@code w}. */
    private static Svd tall(double[] w, int m, int n, boolean vectors) {
        if (n == 0) {
            return new Svd(m, n, 0, new double[0], new double[0], new double[0]);
        }
        if (m >= QR_FIRST_RATIO * n) {
            Qr qr = Qr.factor(w, m, n);
            double[] r = qr.r();
            Bidiagonalization b = Bidiagonalization.reduce(r, n, n);
            double[] d = b.d;
            if (!vectors) {
                BidiagonalQr.diagonalize(n, d, b.e, null, 0, null, 0);
                return new Svd(m, n, n, null, d, null);
            }
            double[] wt = b.qTransposed(); // (n, n), rows become U_Rᵀ
            double[] vt = b.pTransposed();
            BidiagonalQr.diagonalize(n, d, b.e, wt, n, vt, n);
            double[] u = new double[m * n]; // [U_R; 0], then U = Q_R [U_R; 0]
            double[] ur = Matrices.transpose(wt, n, n);
            System.arraycopy(ur, 0, u, 0, n * n);
            qr.applyQ(u, n);
            return new Svd(m, n, n, u, d, vt);
        }
        Bidiagonalization b = Bidiagonalization.reduce(w, m, n);
        double[] d = b.d;
        if (!vectors) {
            BidiagonalQr.diagonalize(n, d, b.e, null, 0, null, 0);
            return new Svd(m, n, n, null, d, null);
        }
        double[] ut = b.qTransposed(); // (n, m)
        double[] vt = b.pTransposed(); // (n, n)
        BidiagonalQr.diagonalize(n, d, b.e, ut, m, vt, n);
        return new Svd(m, n, n, Matrices.transpose(ut, n, m), d, vt);
    }

    /** The leading {@code rank} triplets (fresh arrays). */
    public Svd truncate(int rank) {
        if (rank < 0 || rank > k) {
            throw new IllegalArgumentException("rank " + rank + " outside [0, " + k + "]");
        }
        double[] u2 = new double[m * rank];
        for (int i = 0; i < m; i++) {
            System.arraycopy(u, i * k, u2, i * rank, rank);
        }
        return new Svd(m, n, rank, u2, java.util.Arrays.copyOf(s, rank), java.util.Arrays.copyOf(vt, rank * n));
    }

    /** U diag(s) Vᵀ (m, n). */
    public double[] reconstruct() {
        double[] us = u.clone();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < k; j++) {
                us[i * k + j] *= s[j];
            }
        }
        return Matrices.multiply(us, false, vt, false, m, n, k);
    }

    private static void check(double[] a, int m, int n) {
        if (m < 0 || n < 0 || a.length < (long) m * n) {
            throw new IllegalArgumentException("expected an (" + m + ", " + n + ") matrix, got " + a.length + " values");
        }
        Matrices.requireFinite(a, m, n, "SVD input");
    }
}
