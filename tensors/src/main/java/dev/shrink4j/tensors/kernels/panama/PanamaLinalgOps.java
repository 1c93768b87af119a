package dev.shrink4j.tensors.kernels.panama;

import dev.shrink4j.tensors.linalg.internal.VectorOps;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/** Vector API versions of {@link VectorOps}: fp64 dot and strip rotation replay for {@code linalg}. */
public final class PanamaLinalgOps implements VectorOps {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    @Override
    public double dot(double[] x, int xo, double[] y, int yo, int len) {
        if (len < 2 * L) {
            return SCALAR.dot(x, xo, y, yo, len);
        }
        // four accumulators: FMA latency 4 × one vector FMA per cycle
        DoubleVector a0 = DoubleVector.zero(S), a1 = DoubleVector.zero(S);
        DoubleVector a2 = DoubleVector.zero(S), a3 = DoubleVector.zero(S);
        int i = 0;
        int bound4 = len - 4 * L;
        for (; i <= bound4; i += 4 * L) {
            a0 = DoubleVector.fromArray(S, x, xo + i).fma(DoubleVector.fromArray(S, y, yo + i), a0);
            a1 = DoubleVector.fromArray(S, x, xo + i + L).fma(DoubleVector.fromArray(S, y, yo + i + L), a1);
            a2 = DoubleVector.fromArray(S, x, xo + i + 2 * L).fma(DoubleVector.fromArray(S, y, yo + i + 2 * L), a2);
            a3 = DoubleVector.fromArray(S, x, xo + i + 3 * L).fma(DoubleVector.fromArray(S, y, yo + i + 3 * L), a3);
        }
        int bound = S.loopBound(len);
        for (; i < bound; i += L) {
            a0 = DoubleVector.fromArray(S, x, xo + i).fma(DoubleVector.fromArray(S, y, yo + i), a0);
        }
        double s = Lanes.sum(a0.add(a1).add(a2.add(a3)));
        for (; i < len; i++) {
            s += x[xo + i] * y[yo + i];
        }
        return s;
    }

    @Override
    public void dot2(double[] x, int xo1, int xo2, double[] y, int yo, int len, double[] out) {
        if (len < 2 * L) {
            out[0] = SCALAR.dot(x, xo1, y, yo, len);
            out[1] = SCALAR.dot(x, xo2, y, yo, len);
            return;
        }
        // two accumulators per row: 4 independent FMA chains, y loaded once for both rows
        DoubleVector a0 = DoubleVector.zero(S), a1 = DoubleVector.zero(S);
        DoubleVector b0 = DoubleVector.zero(S), b1 = DoubleVector.zero(S);
        int i = 0;
        int bound2 = len - 2 * L;
        for (; i <= bound2; i += 2 * L) {
            DoubleVector y0 = DoubleVector.fromArray(S, y, yo + i);
            DoubleVector y1 = DoubleVector.fromArray(S, y, yo + i + L);
            a0 = DoubleVector.fromArray(S, x, xo1 + i).fma(y0, a0);
            a1 = DoubleVector.fromArray(S, x, xo1 + i + L).fma(y1, a1);
            b0 = DoubleVector.fromArray(S, x, xo2 + i).fma(y0, b0);
            b1 = DoubleVector.fromArray(S, x, xo2 + i + L).fma(y1, b1);
        }
        double s1 = Lanes.sum(a0.add(a1));
        double s2 = Lanes.sum(b0.add(b1));
        for (; i < len; i++) {
            s1 += x[xo1 + i] * y[yo + i];
            s2 += x[xo2 + i] * y[yo + i];
        }
        out[0] = s1;
        out[1] = s2;
    }

    @Override
    public int preferredStrip() {
        return 4 * L;
    }

    @Override
    public void rotateStrip(double[] t, int cols, int c0, int w, int[] ri, int[] rj, double[] cs, double[] sn, int count) {
        if (w == 4 * L) {
            rotateStrip4(t, cols, c0, ri, rj, cs, sn, count);
            return;
        }
        int vw = (w / L) * L;
        for (int k = 0; k < count; k++) {
            int oi = ri[k] * cols + c0;
            int oj = rj[k] * cols + c0;
            double c = cs[k];
            double s = sn[k];
            DoubleVector vc = DoubleVector.broadcast(S, c);
            DoubleVector vs = DoubleVector.broadcast(S, s);
            int q = 0;
            for (; q < vw; q += L) {
                DoubleVector x = DoubleVector.fromArray(S, t, oi + q);
                DoubleVector y = DoubleVector.fromArray(S, t, oj + q);
                x.mul(vc).add(y.mul(vs)).intoArray(t, oi + q);
                y.mul(vc).sub(x.mul(vs)).intoArray(t, oj + q);
            }
            for (; q < w; q++) {
                double x = t[oi + q];
                double y = t[oj + q];
                t[oi + q] = c * x + s * y;
                t[oj + q] = c * y - s * x;
            }
        }
    }

    /**
     * A strip of four vectors. QR sweeps record chains (i, i+1), (i+1, i+2), …: the second row of one
     * rotation is the first of the next, so it stays in registers (one load and one store per
     * rotation instead of two each). Four independent vectors cover the mul→fma latency of the chain.
     */
    private static void rotateStrip4(double[] t, int cols, int c0, int[] ri, int[] rj, double[] cs, double[] sn, int count) {
        int k = 0;
        while (k < count) {
            int end = k + 1; // the chain is [k, end)
            while (end < count && ri[end] == rj[end - 1]) {
                end++;
            }
            int oi = ri[k] * cols + c0;
            DoubleVector x0 = DoubleVector.fromArray(S, t, oi);
            DoubleVector x1 = DoubleVector.fromArray(S, t, oi + L);
            DoubleVector x2 = DoubleVector.fromArray(S, t, oi + 2 * L);
            DoubleVector x3 = DoubleVector.fromArray(S, t, oi + 3 * L);
            for (; k < end; k++) {
                int oj = rj[k] * cols + c0;
                DoubleVector vc = DoubleVector.broadcast(S, cs[k]);
                DoubleVector vs = DoubleVector.broadcast(S, sn[k]);
                DoubleVector y0 = DoubleVector.fromArray(S, t, oj);
                DoubleVector y1 = DoubleVector.fromArray(S, t, oj + L);
                DoubleVector y2 = DoubleVector.fromArray(S, t, oj + 2 * L);
                DoubleVector y3 = DoubleVector.fromArray(S, t, oj + 3 * L);
                y0.fma(vs, x0.mul(vc)).intoArray(t, oi);
                y1.fma(vs, x1.mul(vc)).intoArray(t, oi + L);
                y2.fma(vs, x2.mul(vc)).intoArray(t, oi + 2 * L);
                y3.fma(vs, x3.mul(vc)).intoArray(t, oi + 3 * L);
                x0 = y0.mul(vc).sub(x0.mul(vs));
                x1 = y1.mul(vc).sub(x1.mul(vs));
                x2 = y2.mul(vc).sub(x2.mul(vs));
                x3 = y3.mul(vc).sub(x3.mul(vs));
                oi = oj;
            }
            x0.intoArray(t, oi);
            x1.intoArray(t, oi + L);
            x2.intoArray(t, oi + 2 * L);
            x3.intoArray(t, oi + 3 * L);
        }
    }

    @Override
    public String name() {
        return "panama-" + S.vectorBitSize();
    }
}
