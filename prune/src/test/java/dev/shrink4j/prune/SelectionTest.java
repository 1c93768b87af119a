package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.ShrinkException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SelectionTest {
    /** Reference mask: sort positions by (|v|, position) and mark the first k. */
    static boolean[] referenceLowest(float[] v, int k) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, Comparator.<Integer>comparingDouble(i -> Math.abs(v[i])).thenComparingInt(i -> i));
        boolean[] m = new boolean[v.length];
        for (int i = 0; i < k; i++) {
            m[idx[i]] = true;
        }
        return m;
    }

    /** Values with many ties and signed zeros, to exercise the tie rule. */
    static float[] tiedValues(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (rnd.nextInt(4)) {
                case 0 -> (rnd.nextInt(5) - 2) * 0.25f;
                case 1 -> rnd.nextBoolean() ? -0.0f : 0.0f;
                default -> (float) rnd.nextGaussian();
            };
        }
        return v;
    }

    @Test
    void lowestKMatchesSortWithTiesByPosition() {
        Random rnd = new Random(1);
        for (int n : new int[] {1, 2, 7, 17, 64, 1001}) {
            float[] v = tiedValues(rnd, n);
            float[] score = new float[n];
            for (int i = 0; i < n; i++) {
                score[i] = Math.abs(v[i]);
            }
            for (int k : new int[] {0, 1, n / 3, n / 2, n - 1, n}) {
                boolean[] got = new boolean[n];
                Selection.lowestK(score, 0, n, k, new long[n], got, 0);
                assertArrayEquals(referenceLowest(v, k), got, "n=" + n + " k=" + k);
            }
        }
    }

    @Test
    void radixSelectMatchesSortForSeveralRanksAndChunks() {
        Random rnd = new Random(2);
        float[] v = tiedValues(rnd, 5003);
        long[] ranks = {0, 1, 250, 2501, 2502, 5002, 5003};
        RadixSelect s = new RadixSelect();
        // scan order = two chunks, as over two tensors
        s.countHigh(v, 0, 2000);
        s.countHigh(v, 2000, 3003);
        s.plan(ranks);
        s.countLow(v, 0, 2000);
        s.countLow(v, 2000, 3003);
        for (int r = 0; r < ranks.length; r++) {
            RadixSelect.Applier a = s.cut(r).applier();
            float[] w = v.clone();
            int zeroed = a.apply(w, 0, 2000) + a.apply(w, 2000, 3003);
            assertEquals(ranks[r], zeroed);
            boolean[] ref = referenceLowest(v, (int) ranks[r]);
            for (int i = 0; i < v.length; i++) {
                assertEquals(ref[i] ? 0f : v[i], w[i], 0f, "rank " + ranks[r] + " at " + i);
            }
        }
    }

    @Test
    void magnitudePerMatrixPrunesExactlyFloorOfP() {
        Random rnd = new Random(3);
        float[] w = tiedValues(rnd, 999);
        float[] pruned = w.clone();
        long removed = Magnitude.pruneMatrix(pruned, 0.37);
        assertEquals((long) Math.floor(0.37 * 999), removed);
        boolean[] ref = referenceLowest(w, (int) removed);
        for (int i = 0; i < w.length; i++) {
            assertEquals(ref[i] ? 0f : w[i], pruned[i], 0f);
        }
    }

    @Test
    void nmMasksKeepExactlyTheNLargestOfEveryGroup() {
        Random rnd = new Random(4);
        int rows = 5;
        int cols = 24;
        for (NmPattern p : new NmPattern[] {NmPattern.TWO_FOUR, NmPattern.FOUR_EIGHT}) {
            float[] w = tiedValues(rnd, rows * cols);
            float[] pruned = w.clone();
            boolean[] mask = Magnitude.pruneNm(pruned, rows, cols, p);
            for (int r = 0; r < rows; r++) {
                for (int g = 0; g < cols; g += p.m()) {
                    float[] group = Arrays.copyOfRange(w, r * cols + g, r * cols + g + p.m());
                    boolean[] ref = referenceLowest(group, p.m() - p.n());
                    for (int i = 0; i < p.m(); i++) {
                        assertEquals(ref[i], mask[r * cols + g + i], p + " row " + r + " col " + (g + i));
                        assertEquals(ref[i] ? 0f : group[i], pruned[r * cols + g + i], 0f);
                    }
                }
            }
            assertEquals((long) rows * cols * (p.m() - p.n()) / p.m(), Masks.count(mask));
        }
    }

    @Test
    void handComputedTwoFourRow() {
        float[] w = {0.1f, -3f, 2f, 0.5f, /* ties: earlier is pruned first */ 1f, -1f, 1f, 1f};
        Magnitude.pruneNm(w, 1, 8, NmPattern.TWO_FOUR);
        assertArrayEquals(new float[] {0f, -3f, 2f, 0f, 0f, 0f, 1f, 1f}, w);
    }

    @Test
    void badInputGivesClearMessages() {
        ShrinkException e = assertThrows(ShrinkException.class, () -> Magnitude.pruneMatrix(new float[4], 1.0));
        assertTrue(e.getMessage().contains("[0, 1)"), e.getMessage());
        assertThrows(ShrinkException.class, () -> SparsityTarget.check(-0.1, "--sparsity"));
        assertThrows(ShrinkException.class, () -> SparsityTarget.check(Double.NaN, "--sparsity"));
        e = assertThrows(ShrinkException.class, () -> Magnitude.pruneNm(new float[6], 1, 6, NmPattern.TWO_FOUR));
        assertTrue(e.getMessage().contains("multiple of 4"), e.getMessage());
        e = assertThrows(ShrinkException.class, () -> NmPattern.parse("3:4", "--pattern"));
        assertTrue(e.getMessage().contains("--pattern"), e.getMessage());
        assertEquals(NmPattern.FOUR_EIGHT, NmPattern.parse("4:8", "--pattern"));
        assertEquals(null, NmPattern.parse("unstructured", "--pattern"));
    }
}
