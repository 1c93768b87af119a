package dev.shrink4j.model;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.ActivationPrecision;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;

/**
 * Paired timing of one decode step's output head, TinyLlama-shaped (32000 × 2048, Gaussian σ = 0.02):
 * F32 ({@link DenseLinear}) against the tables {@code quantize --head-bits} writes (symmetric RTN g32, int8
 * and int4, F32 and int8 activations) as {@link CompressedLinear}s, the runtime's path; all in one JVM,
 * calls alternating, 20 warm-up rounds, the median of per-round ratios to F32 (docs/quantize.md). Run:
 * {@code mvn -q -o -pl model -am test-compile}, then {@code java --add-modules jdk.incubator.vector
 * -Dshrink4j.threads=2 -cp tensors/target/classes:model/target/classes:model/target/test-classes
 * dev.shrink4j.model.HeadKernelRatio [ROUNDS]}.
 */
public final class HeadKernelRatio {
    private static final int VOCAB = 32000;
    private static final int HIDDEN = 2048;

    private HeadKernelRatio() {}

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 40;
        Random r = new Random(42);
        float[] w = new float[VOCAB * HIDDEN];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.02);
        try (Arena arena = Arena.ofShared()) {
            Tensor dense = Tensor.allocate(arena, DType.F32, Shape.of(VOCAB, HIDDEN));
            dense.writeFloats(0, w, 0, w.length);
            UniformQuantized q8 = UniformQuantized.rtn(arena, w, VOCAB, HIDDEN, 8, 32, true);
            UniformQuantized q4 = UniformQuantized.rtn(arena, w, VOCAB, HIDDEN, 4, 32, true);
            Linear[] heads = {new DenseLinear(dense, null), new CompressedLinear(q8, null), new CompressedLinear(q4, null),
                new CompressedLinear(q8, null, ActivationPrecision.INT8), new CompressedLinear(q4, null, ActivationPrecision.INT8)};
            String[] names = {"F32", "int8 g32", "int4 g32", "int8 g32, int8 act", "int4 g32, int8 act"};
            float[] x = new float[HIDDEN];
            for (int i = 0; i < HIDDEN; i++) x[i] = (float) r.nextGaussian();
            float[] y = new float[VOCAB];
            for (int k = 0; k < 20; k++) for (Linear h : heads) h.forward(x, 1, y);
            double[][] ms = new double[heads.length][rounds];
            for (int k = 0; k < rounds; k++) {
                for (int h = 0; h < heads.length; h++) {
                    long t0 = System.nanoTime();
                    heads[h].forward(x, 1, y);
                    ms[h][k] = (System.nanoTime() - t0) / 1e6;
                }
            }
            for (int h = 0; h < heads.length; h++) {
                double[] ratio = new double[rounds];
                for (int k = 0; k < rounds; k++) ratio[k] = ms[h][k] / ms[0][k];
                System.out.printf("%-20s median %6.2f ms, ratio to F32 (paired median) %.2f%n", names[h], median(ms[h]), median(ratio));
            }
        }
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }
}
