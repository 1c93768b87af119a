package dev.shrink4j.tensors.kernels.panama;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * Lane sums follow one written-out tree, whatever the JIT does: each result must be bit-equal to
 * the same folds done in scalar Java (scalar float adds are exact IEEE operations in every tier).
 */
class LanesTest {
    /** Folds a[0..n) in halves as Lanes does: lane i += lane i + n/2, until one lane is left. */
    static float foldFloats(float[] a) {
        float[] v = a.clone();
        for (int half = v.length / 2; half >= 1; half /= 2) {
            for (int i = 0; i < half; i++) v[i] = v[i] + v[i + half];
        }
        return v[0];
    }

    static double foldDoubles(double[] a) {
        double[] v = a.clone();
        for (int half = v.length / 2; half >= 1; half /= 2) {
            for (int i = 0; i < half; i++) v[i] = v[i] + v[i + half];
        }
        return v[0];
    }

    @Test
    void sumsAreTheFixedTreeBitForBit() {
        Random r = new Random(11);
        int lf = FloatVector.SPECIES_PREFERRED.length(), ld = DoubleVector.SPECIES_PREFERRED.length();
        for (int rep = 0; rep < 20_000; rep++) { // enough calls for C2 to compile Lanes.sum midway
            float[] f = new float[lf];
            for (int i = 0; i < lf; i++) f[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
            float got = Lanes.sum(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, f, 0));
            assertEquals(Float.floatToIntBits(foldFloats(f)), Float.floatToIntBits(got), "float lanes, repetition " + rep);
            double[] d = new double[ld];
            for (int i = 0; i < ld; i++) d[i] = r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3);
            double gotD = Lanes.sum(DoubleVector.fromArray(DoubleVector.SPECIES_PREFERRED, d, 0));
            assertEquals(Double.doubleToLongBits(foldDoubles(d)), Double.doubleToLongBits(gotD), "double lanes, repetition " + rep);
        }
    }
}
