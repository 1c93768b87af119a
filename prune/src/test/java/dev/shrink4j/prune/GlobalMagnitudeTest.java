package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GlobalMagnitudeTest {
    @Test
    void oneThresholdOverSeveralBf16TensorsMatchesSorting() {
        Random rnd = new Random(9);
        try (Arena arena = Arena.ofConfined()) {
            float[] a = SelectionTest.tiedValues(rnd, 300);
            float[] b = SelectionTest.tiedValues(rnd, 501);
            for (int i = 0; i < b.length; i++) {
                b[i] *= 3; // a differently scaled layer: the global cut is not per-matrix
            }
            Tensor ta = Tensor.ofFloats(arena, Shape.of(10, 30), a).convert(arena, DType.BF16);
            Tensor tb = Tensor.ofFloats(arena, Shape.of(3, 167), b).convert(arena, DType.BF16);
            float[] all = new float[801];
            System.arraycopy(ta.toFloatArray(), 0, all, 0, 300);
            System.arraycopy(tb.toFloatArray(), 0, all, 300, 501);
            double[] levels = {0, 0.25, 0.5, 0.9};
            RadixSelect.Cut[] cuts = GlobalMagnitude.cuts(List.of(ta, tb), levels);
            for (int l = 0; l < levels.length; l++) {
                RadixSelect.Applier ap = cuts[l].applier();
                float[] x = ta.toFloatArray();
                float[] y = tb.toFloatArray();
                int n = ap.apply(x, 0, x.length) + ap.apply(y, 0, y.length);
                int k = (int) Math.floor(levels[l] * 801);
                assertEquals(k, n);
                boolean[] ref = SelectionTest.referenceLowest(all, k);
                for (int i = 0; i < 801; i++) {
                    float got = i < 300 ? x[i] : y[i - 300];
                    assertEquals(ref[i] ? 0f : all[i], got, 0f);
                }
            }
        }
    }

    @Test
    void maskOverlapIsOneForOneMatrixAndLessAcrossDifferentScales() {
        Random rnd = new Random(10);
        try (Arena arena = Arena.ofConfined()) {
            float[] a = new float[400];
            float[] b = new float[400];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) rnd.nextGaussian();
                b[i] = 4 * (float) rnd.nextGaussian(); // a wider layer: the global cut takes mostly from a
            }
            Tensor ta = Tensor.ofFloats(arena, Shape.of(20, 20), a);
            Tensor tb = Tensor.ofFloats(arena, Shape.of(20, 20), b);
            assertEquals(1.0, EssentialSparsity.maskOverlap(List.of(ta), 0.3), 0.0);
            double j = EssentialSparsity.maskOverlap(List.of(ta, tb), 0.3);
            org.junit.jupiter.api.Assertions.assertTrue(j > 0.2 && j < 0.9, "Jaccard " + j);
        }
    }
}
