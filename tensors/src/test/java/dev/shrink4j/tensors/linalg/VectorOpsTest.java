package dev.shrink4j.tensors.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import dev.shrink4j.tensors.linalg.internal.VectorOps;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Vector API level-1 ops against the scalar reference at awkward sizes. */
class VectorOpsTest {
    private static final double TOL = 1e-13;

    @Test
    void panamaMatchesScalar() {
        VectorOps fast = VectorOps.get();
        assertNotSame(VectorOps.SCALAR, fast, "the Vector API ops should load when jdk.incubator.vector is present");
        Random rnd = new Random(61);
        for (int len : new int[] {0, 1, 7, 8, 9, 31, 33, 64, 101, 1023}) {
            double[] x = Gen.gaussian(rnd, 1, len + 5);
            double[] y = Gen.gaussian(rnd, 1, len + 3);
            double want = VectorOps.SCALAR.dot(x, 5, y, 3, len);
            assertEquals(want, fast.dot(x, 5, y, 3, len), TOL * Math.sqrt(len + 1), "dot len " + len);
            double[] both = new double[2];
            fast.dot2(x, 5, 0, y, 3, len, both);
            assertEquals(want, both[0], TOL * Math.sqrt(len + 1), "dot2 first, len " + len);
            assertEquals(VectorOps.SCALAR.dot(x, 0, y, 3, len), both[1], TOL * Math.sqrt(len + 1), "dot2 second, len " + len);
        }
        int rows = 9;
        for (int cols : new int[] {1, 5, 8, 13, 64, 70}) {
            double[] t0 = Gen.gaussian(rnd, rows, cols);
            int count = 25;
            int[] ri = new int[count];
            int[] rj = new int[count];
            double[] cs = new double[count];
            double[] sn = new double[count];
            for (int k = 0; k < count; k++) {
                ri[k] = rnd.nextInt(rows);
                rj[k] = (ri[k] + 1 + rnd.nextInt(rows - 1)) % rows;
                double th = rnd.nextDouble() * 6.28;
                cs[k] = Math.cos(th);
                sn[k] = Math.sin(th);
            }
            for (int c0 = 0; c0 < cols; c0 += 3) {
                int w = Math.min(cols - c0, 1 + c0 % 11 + cols / 2);
                double[] a = t0.clone();
                double[] b = t0.clone();
                VectorOps.SCALAR.rotateStrip(a, cols, c0, w, ri, rj, cs, sn, count);
                fast.rotateStrip(b, cols, c0, w, ri, rj, cs, sn, count);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], TOL, "rotate cols " + cols + " strip " + c0 + "+" + w);
                }
            }
        }
    }

    @Test
    void chainedSweepsAtThePreferredStrip() {
        VectorOps fast = VectorOps.get();
        Random rnd = new Random(62);
        int rows = 12;
        int w = fast.preferredStrip();
        int cols = 2 * w + 5;
        // two QR-like sweeps (i, i+1) chains, a lone non-adjacent rotation, another chain
        int[][] pairs = {{2, 3}, {3, 4}, {4, 5}, {5, 6}, {0, 1}, {1, 2}, {9, 4}, {7, 8}, {8, 9}, {9, 10}, {10, 11}};
        int count = pairs.length;
        int[] ri = new int[count];
        int[] rj = new int[count];
        double[] cs = new double[count];
        double[] sn = new double[count];
        for (int k = 0; k < count; k++) {
            ri[k] = pairs[k][0];
            rj[k] = pairs[k][1];
            double th = rnd.nextDouble() * 6.28;
            cs[k] = Math.cos(th);
            sn[k] = Math.sin(th);
        }
        double[] t0 = Gen.gaussian(rnd, rows, cols);
        for (int c0 : new int[] {0, w, 2 * w}) {
            int width = Math.min(w, cols - c0);
            double[] a = t0.clone();
            double[] b = t0.clone();
            VectorOps.SCALAR.rotateStrip(a, cols, c0, width, ri, rj, cs, sn, count);
            fast.rotateStrip(b, cols, c0, width, ri, rj, cs, sn, count);
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], TOL, "chained strip at " + c0 + ", index " + i);
            }
        }
    }
}
