package dev.shrink4j.tensors.kernels.panama;

import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.FS;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.L;

import dev.shrink4j.tensors.formats.CompressedWeight;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/** F32 dot products for the widen-rows-then-multiply matmuls of the compressed formats. */
final class PanamaFormatDots {
    private PanamaFormatDots() {}

    /** Σ a[ao + i]·b[bo + i] over i < n. */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector a0 = FloatVector.zero(FS), a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        int bound4 = n - 4 * L + 1;
        for (; i < bound4; i += 4 * L) {
            a0 = FloatVector.fromArray(FS, a, ao + i).fma(FloatVector.fromArray(FS, b, bo + i), a0);
            a1 = FloatVector.fromArray(FS, a, ao + i + L).fma(FloatVector.fromArray(FS, b, bo + i + L), a1);
            a2 = FloatVector.fromArray(FS, a, ao + i + 2 * L).fma(FloatVector.fromArray(FS, b, bo + i + 2 * L), a2);
            a3 = FloatVector.fromArray(FS, a, ao + i + 3 * L).fma(FloatVector.fromArray(FS, b, bo + i + 3 * L), a3);
        }
        for (; i < FS.loopBound(n); i += L) {
            a0 = FloatVector.fromArray(FS, a, ao + i).fma(FloatVector.fromArray(FS, b, bo + i), a0);
        }
        float s = Lanes.sum(a0.add(a1).add(a2.add(a3)));
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /**
     * Y[r, j0 + q] = rows[q·n ..]·X[r·n ..] for q < nr (nr is 1 or 2) and every r < m. Register
     * block of 2 weight rows × 4 activation rows: 8 independent accumulators, 6 loads per 8 fmas.
     * rows: (nr, n); x: (m, n); y: (m, dOut), Modified.
     */
    static void rowsTimesX(float[] rows, int nr, float[] x, int m, int n, float[] y, int dOut, int j0) {
        if (nr == 1) {
            for (int r = 0; r < m; r++) y[r * dOut + j0] = dot(rows, 0, x, r * n, n);
            return;
        }
        int vb = FS.loopBound(n);
        int r = 0;
        for (; r + 3 < m; r += 4) {
            FloatVector c00 = FloatVector.zero(FS), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
            int x0 = r * n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
            for (int i = 0; i < vb; i += L) {
                FloatVector w0 = FloatVector.fromArray(FS, rows, i);
                FloatVector w1 = FloatVector.fromArray(FS, rows, n + i);
                FloatVector v = FloatVector.fromArray(FS, x, x0 + i);
                c00 = w0.fma(v, c00);
                c10 = w1.fma(v, c10);
                v = FloatVector.fromArray(FS, x, x1 + i);
                c01 = w0.fma(v, c01);
                c11 = w1.fma(v, c11);
                v = FloatVector.fromArray(FS, x, x2 + i);
                c02 = w0.fma(v, c02);
                c12 = w1.fma(v, c12);
                v = FloatVector.fromArray(FS, x, x3 + i);
                c03 = w0.fma(v, c03);
                c13 = w1.fma(v, c13);
            }
            float s00 = Lanes.sum(c00), s01 = Lanes.sum(c01);
            float s02 = Lanes.sum(c02), s03 = Lanes.sum(c03);
            float s10 = Lanes.sum(c10), s11 = Lanes.sum(c11);
            float s12 = Lanes.sum(c12), s13 = Lanes.sum(c13);
            for (int i = vb; i < n; i++) {
                float w0 = rows[i], w1 = rows[n + i];
                s00 += w0 * x[x0 + i];
                s01 += w0 * x[x1 + i];
                s02 += w0 * x[x2 + i];
                s03 += w0 * x[x3 + i];
                s10 += w1 * x[x0 + i];
                s11 += w1 * x[x1 + i];
                s12 += w1 * x[x2 + i];
                s13 += w1 * x[x3 + i];
            }
            y[r * dOut + j0] = s00;
            y[(r + 1) * dOut + j0] = s01;
            y[(r + 2) * dOut + j0] = s02;
            y[(r + 3) * dOut + j0] = s03;
            y[r * dOut + j0 + 1] = s10;
            y[(r + 1) * dOut + j0 + 1] = s11;
            y[(r + 2) * dOut + j0 + 1] = s12;
            y[(r + 3) * dOut + j0 + 1] = s13;
        }
        for (; r < m; r++) {
            y[r * dOut + j0] = dot(rows, 0, x, r * n, n);
            y[r * dOut + j0 + 1] = dot(rows, n, x, r * n, n);
        }
    }

    /** Y = X·Ŵᵀ for any format: widen two rows of Ŵ (the scalar reference) and multiply them with every row of X. */
    static void rowsMatmul(CompressedWeight w, float[] x, int m, float[] y) {
        rowsMatmul(w.dIn(), w.dOut(), (j, p0, len, dst, off) -> w.dequantizeRow(j, dst, off), x, m, y);
    }

    /** As above with rows widened by {@code rows} (whole rows: p0 = 0, len = d_in). */
    static void rowsMatmul(int n, int dOut, Panel.RowSlices rows, float[] x, int m, float[] y) {
        float[] buf = new float[2 * n];
        for (int j = 0; j < dOut; j += 2) {
            int nr = Math.min(2, dOut - j);
            for (int q = 0; q < nr; q++) rows.decode(j + q, 0, n, buf, q * n);
            rowsTimesX(buf, nr, x, m, n, y, dOut, j);
        }
    }
}
