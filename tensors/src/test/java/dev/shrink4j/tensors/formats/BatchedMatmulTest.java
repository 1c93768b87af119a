package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shrink4j.tensors.gguf.GgufBlocks;
import dev.shrink4j.tensors.gguf.GgufType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The batched forward (Y = X·Ŵᵀ for many rows, the prefill path) against the scalar spec at sizes
 * that cut every blocking loop: several KC = 256 slices of d_in with a tail after the last vector
 * block, d_out over several NR strips and not a multiple of one, m on both sides of the switch to
 * the GEMM path (16 rows) and across the MR = 8 row block.
 */
class BatchedMatmulTest {
    /** (d_out, d_in, group): three KC slices + a tail; a single slice; ragged groups. */
    private static final int[][] SHAPES = {{70, 600, 32}, {33, 256, 64}, {41, 517, 128}};
    /** m: the matvec, the per-row kernels (below 16 rows), the GEMM path with a partial 8-row block. */
    private static final int[] ROWS = {1, 3, 15, 17};

    @Test
    void uniformMatchesTheSpecForEveryWidthGroupAndZeroPoint() {
        long seed = 100;
        try (Arena arena = Arena.ofConfined()) {
            for (int bits : new int[] {2, 3, 4, 8}) {
                for (int[] s : SHAPES) {
                    for (boolean sym : new boolean[] {false, true}) {
                        Random rnd = new Random(seed++);
                        UniformQuantized w = UniformQuantized.rtn(arena, FormatChecks.gaussian(rnd, s[0] * s[1], 0.05), s[0], s[1], bits, s[2], sym);
                        check(w, ROWS, rnd);
                    }
                }
            }
        }
    }

    @Test
    void actOrderAndOddGroupsTakeTheNaturalOrderDecoder() {
        Random rnd = new Random(7);
        int dOut = 37, dIn = 520, gs = 64, ng = UniformQuantized.groups(dIn, gs);
        int[] perm = new int[dIn];
        for (int i = 0; i < dIn; i++) perm[i] = i;
        for (int i = dIn - 1; i > 0; i--) {
            int k = rnd.nextInt(i + 1), t = perm[i];
            perm[i] = perm[k];
            perm[k] = t;
        }
        int[] gIdx = new int[dIn];
        for (int i = 0; i < dIn; i++) gIdx[perm[i]] = i / gs;
        try (Arena arena = Arena.ofConfined()) {
            for (int bits : new int[] {3, 4}) {
                int[] q = new int[dOut * dIn];
                for (int i = 0; i < q.length; i++) q[i] = rnd.nextInt(1 << bits);
                float[] sc = new float[dOut * ng];
                int[] z = new int[dOut * ng];
                for (int i = 0; i < sc.length; i++) {
                    sc[i] = (float) rnd.nextDouble();
                    z[i] = rnd.nextInt(1 << bits);
                }
                check(UniformQuantized.of(arena, dOut, dIn, bits, gs, q, sc, z, gIdx), ROWS, rnd);
            }
            // group size 5: no vector plan
            check(UniformQuantized.rtn(arena, FormatChecks.gaussian(rnd, 19 * 300, 0.05), 19, 300, 4, 5, false), ROWS, rnd);
        }
    }

    @Test
    void aPrefillSizedBatchMatchesTheSpec() {
        Random rnd = new Random(8);
        try (Arena arena = Arena.ofConfined()) {
            check(UniformQuantized.rtn(arena, FormatChecks.gaussian(rnd, 67 * 300, 0.05), 67, 300, 4, 32, true), new int[] {64, 513}, rnd);
        }
    }

    /** N:M with float and quantized kept values: every slice widened dense (zeros between the kept columns). */
    @Test
    void nmSparseAndQuantizedMatchTheSpec() {
        long seed = 300;
        try (Arena arena = Arena.ofConfined()) {
            for (int[] nm : new int[][] {{2, 4}, {4, 8}, {1, 4}}) {
                for (int[] s : new int[][] {{70, 600}, {33, 256}, {41, 520}}) {
                    Random rnd = new Random(seed++);
                    int kept = s[1] / nm[1] * nm[0];
                    float[] vals = FormatChecks.gaussian(rnd, s[0] * kept, 1);
                    int[] idx = new int[s[0] * kept];
                    for (int t = 0; t < idx.length; t++) idx[t] = (t % nm[0]) * (nm[1] / nm[0]) + rnd.nextInt(nm[1] / nm[0]);
                    check(NmSparse.of(arena, s[0], s[1], nm[0], nm[1], vals, idx), ROWS, rnd);
                    for (int bits : new int[] {4, 8, 3}) {
                        for (int g : new int[] {32, 48}) {
                            check(NmQuantized.rtn(arena, s[0], s[1], nm[0], nm[1], vals, idx, bits, g, (seed + bits + g) % 2 == 0), ROWS, rnd);
                        }
                    }
                }
            }
        }
    }

    @Test
    void codebooksMatchTheSpec() {
        Random rnd = new Random(9);
        try (Arena arena = Arena.ofConfined()) {
            for (int bits : new int[] {2, 3, 4}) {
                for (int[] s : new int[][] {{70, 600, 600}, {33, 517, 128}}) {
                    int ng = UniformQuantized.groups(s[1], s[2]);
                    int[] q = new int[s[0] * s[1]];
                    for (int i = 0; i < q.length; i++) q[i] = rnd.nextInt(1 << bits);
                    check(LutQuantized.of(arena, s[0], s[1], bits, s[2], q, FormatChecks.gaussian(rnd, s[0] * ng << bits, 0.1)), ROWS, rnd);
                }
            }
        }
    }

    @Test
    void ggmlBlocksMatchTheSpec() {
        Random rnd = new Random(10);
        try (Arena arena = Arena.ofConfined()) {
            for (GgufType t : new GgufType[] {GgufType.Q4_0, GgufType.Q4_1, GgufType.Q8_0}) {
                int dOut = 35, dIn = 608;
                float[] v = FormatChecks.gaussian(rnd, dOut * dIn, 1);
                MemorySegment s = arena.allocate(t.bytes((long) dOut * dIn));
                GgufBlocks.quantize(t, v, 0, v.length, s, 0);
                check(new GgufBlockWeight(t, dOut, dIn, s), ROWS, rnd);
            }
        }
    }

    /** K-quant super-blocks (256 = one KC slice), three per row: random codes and scales, finite halves d and dmin. */
    @Test
    void kQuantBlocksMatchTheSpec() {
        Random rnd = new Random(12);
        try (Arena arena = Arena.ofConfined()) {
            for (GgufType t : new GgufType[] {GgufType.Q4_K, GgufType.Q5_K, GgufType.Q6_K}) {
                int dOut = 35, dIn = 768;
                MemorySegment s = arena.allocate(t.bytes((long) dOut * dIn));
                for (long i = 0; i < s.byteSize(); i++) s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
                for (long b = 0; b < s.byteSize(); b += t.blockBytes) {
                    if (t == GgufType.Q6_K) s.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, b + 208, (short) 0x1c00);
                    else for (int k = 0; k < 4; k += 2) s.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, b + k, (short) 0x1c00);
                }
                check(new GgufBlockWeight(t, dOut, dIn, s), ROWS, rnd);
            }
        }
    }

    /**
     * The Vector API kernels' matmul (the scalar ones where it is absent) equals the scalar matvec row
     * by row (the spec) and Ŵ·x in double, within float summation error.
     */
    private static void check(CompressedWeight w, int[] rows, Random rnd) {
        int n = w.dIn(), dOut = w.dOut();
        float[] wd = FormatChecks.dense(w);
        FormatKernels k = FormatKernels.panama().orElse(FormatKernels.scalar());
        for (int m : rows) {
            float[] x = FormatChecks.gaussian(rnd, m * n, 1.0);
            float[] y = new float[m * dOut];
            w.matmul(x, m, y, k);
            float[] xr = new float[n];
            float[] yr = new float[dOut];
            for (int r = 0; r < m; r++) {
                System.arraycopy(x, r * n, xr, 0, n);
                w.matvec(xr, yr, FormatKernels.scalar());
                for (int j = 0; j < dOut; j++) {
                    double ref = 0, mag = 0;
                    for (int i = 0; i < n; i++) {
                        double p = (double) wd[j * n + i] * xr[i];
                        ref += p;
                        mag += Math.abs(p);
                    }
                    String at = w.format() + " (" + dOut + ", " + n + ") " + k.name() + " m=" + m + " [" + r + ", " + j + "]";
                    assertEquals(ref, y[r * dOut + j], FormatChecks.KERNEL_REL_TOL * mag + 1e-30, at + " vs double");
                    assertEquals(yr[j], y[r * dOut + j], 2 * FormatChecks.KERNEL_REL_TOL * mag + 1e-30, at + " vs scalar matvec");
                }
            }
        }
    }
}
