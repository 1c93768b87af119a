package dev.shrink4j.tensors.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shrink4j.tensors.linalg.internal.Dgemm;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The linalg GEMM adapter (Kernels SPI + tiny-product loop) against a naive triple loop: all transpose cases, awkward sizes, offsets. */
class DgemmTest {
    private static final double TOL = 1e-12;

    @Test
    void kernelsMatchNaiveAtAwkwardSizes() {
        Random rnd = new Random(7);
        int[][] sizes = {{1, 1, 1}, {7, 5, 3}, {13, 29, 17}, {31, 47, 260}, {101, 67, 33}, {6, 24, 300}, {97, 1, 55}};
        for (int[] s : sizes) {
            int m = s[0], n = s[1], k = s[2];
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                double[] a = Gen.gaussian(rnd, m + 3, k + 3); // padded: exercises offsets and leading dimensions
                double[] b = Gen.gaussian(rnd, k + 3, n + 3);
                int lda = ta ? m + 2 : k + 2, ldb = tb ? k + 2 : n + 2, ldc = n + 1;
                double[] c0 = Gen.gaussian(rnd, m + 1, n + 1);
                double[] want = c0.clone();
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double acc = 0;
                        for (int p = 0; p < k; p++) {
                            double av = ta ? a[1 + p * lda + i] : a[1 + i * lda + p];
                            double bv = tb ? b[2 + j * ldb + p] : b[2 + p * ldb + j];
                            acc += av * bv;
                        }
                        want[1 + i * ldc + j] = 0.5 * c0[1 + i * ldc + j] - 1.5 * acc;
                    }
                }
                double[] c = c0.clone();
                Dgemm.gemm(ta, tb, m, n, k, -1.5, a, 1, lda, b, 2, ldb, 0.5, c, 1, ldc);
                for (int i = 0; i < c.length; i++) {
                    assertEquals(want[i], c[i], TOL * (1 + Math.abs(want[i])) * Math.sqrt(k),
                            m + "x" + n + "x" + k + " t=" + t + " at " + i);
                }
            }
        }
    }
}
