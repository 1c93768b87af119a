package dev.shrink4j.tensors.gguf;

import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.GgufBlockWeight;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Paired ratio of the GGUF block matvec, scalar spec against Panama: 4096 × 4096 (Gaussian σ = 0.02),
 * one thread, both kernels in the same JVM on the same blocks, calls alternating, 3 warm-up pairs, the
 * median of 9 per-pair ratios (docs/formats.md, GGUF types). Run: {@code mvn -q -o -pl tensors
 * test-compile}, then {@code java --add-modules jdk.incubator.vector -cp
 * tensors/target/classes:tensors/target/test-classes dev.shrink4j.tensors.gguf.GgufKernelRatio}.
 */
public final class GgufKernelRatio {
    private static final int N = 4096;
    private static final int PAIRS = 9;

    private GgufKernelRatio() {}

    public static void main(String[] args) {
        Random r = new Random(42);
        float[] w = new float[N * N];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * 0.02);
        float[] x = new float[N];
        for (int i = 0; i < N; i++) x[i] = (float) r.nextGaussian();
        FormatKernels scalar = FormatKernels.scalar(), panama = FormatKernels.panama().orElseThrow();
        try (Arena arena = Arena.ofConfined()) {
            for (GgufType t : new GgufType[] {GgufType.Q4_0, GgufType.Q4_1, GgufType.Q8_0}) {
                MemorySegment blocks = arena.allocate(t.bytes((long) N * N));
                GgufBlocks.quantize(t, w, 0, w.length, blocks, 0);
                GgufBlockWeight gw = new GgufBlockWeight(t, N, N, blocks);
                float[] y = new float[N];
                for (int i = 0; i < 3; i++) {
                    gw.matvec(x, y, scalar);
                    gw.matvec(x, y, panama);
                }
                double[] ratio = new double[PAIRS], ts = new double[PAIRS], tp = new double[PAIRS];
                for (int i = 0; i < PAIRS; i++) {
                    long t0 = System.nanoTime();
                    gw.matvec(x, y, scalar);
                    long t1 = System.nanoTime();
                    gw.matvec(x, y, panama);
                    long t2 = System.nanoTime();
                    ts[i] = (t1 - t0) / 1e3;
                    tp[i] = (t2 - t1) / 1e3;
                    ratio[i] = ts[i] / tp[i];
                }
                Arrays.sort(ratio);
                Arrays.sort(ts);
                Arrays.sort(tp);
                System.out.printf(Locale.ROOT, "%s %dx%d matvec: scalar median %.0f us, panama median %.0f us, paired ratio median %.2f (min %.2f, max %.2f)%n",
                        t, N, N, ts[PAIRS / 2], tp[PAIRS / 2], ratio[PAIRS / 2], ratio[0], ratio[PAIRS - 1]);
            }
        }
    }
}
