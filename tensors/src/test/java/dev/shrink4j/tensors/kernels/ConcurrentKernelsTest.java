package dev.shrink4j.tensors.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The kernels under concurrent callers, as in a server: 8 platform threads, then 64 virtual threads,
 * each running parallel matvecs and GEMMs (large enough to use the kernel team or the fork/join pool,
 * with per-thread scratch) on shared weights. Every result must equal, bit for bit, the one computed
 * alone beforehand: rows are split between threads, never a row's sum, so the split does not change bits.
 */
class ConcurrentKernelsTest {
    private static final int D_OUT = 384;
    private static final int D_IN = 1000; // not a multiple of any vector width
    private static final int M = 7;
    private static final int ROUNDS = 20;

    @Test
    void concurrentCallersGetTheBitsOfSequentialCalls() throws Exception {
        Kernels k = Kernels.get();
        try (Arena arena = Arena.ofShared()) {
            Random rnd = new Random(11);
            float[] wf = new float[D_OUT * D_IN];
            for (int i = 0; i < wf.length; i++) wf[i] = (float) rnd.nextGaussian();
            Tensor[] weights = {Tensor.ofFloats(arena, Shape.matrix(D_OUT, D_IN), wf),
                    Tensor.ofFloats(arena, Shape.matrix(D_OUT, D_IN), wf).convert(arena, DType.BF16)};
            int requests = 16;
            float[][] inputs = new float[requests][M * D_IN];
            for (float[] x : inputs) for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            float[][][] expected = new float[requests][][];
            for (int r = 0; r < requests; r++) expected[r] = compute(k, weights[r % 2], inputs[r]);

            for (ExecutorService pool : List.of(Executors.newFixedThreadPool(8), Executors.newVirtualThreadPerTaskExecutor())) {
                try (pool) {
                    int callers = pool instanceof java.util.concurrent.ThreadPoolExecutor ? 8 : 64;
                    AtomicInteger mismatches = new AtomicInteger();
                    List<Future<?>> done = new ArrayList<>();
                    for (int t = 0; t < callers; t++) {
                        int id = t;
                        done.add(pool.submit(() -> {
                            for (int round = 0; round < ROUNDS * 8 / callers + 1; round++) {
                                int r = (id * 7 + round) % requests;
                                float[][] got = compute(k, weights[r % 2], inputs[r]);
                                for (int i = 0; i < got.length; i++) {
                                    if (!Arrays.equals(got[i], expected[r][i])) mismatches.incrementAndGet();
                                }
                            }
                            return null;
                        }));
                    }
                    for (Future<?> f : done) f.get();
                    assertEquals(0, mismatches.get(), callers + " callers");
                }
            }
        }
    }

    /** One request: a matvec per row of X and one GEMM Y = X·Wᵀ. */
    private static float[][] compute(Kernels k, Tensor w, float[] x) {
        float[] mv = new float[M * D_OUT];
        for (int r = 0; r < M; r++) k.matvec(w, x, r * D_IN, mv, r * D_OUT, false);
        float[] gemm = new float[M * D_OUT];
        k.gemmABt(M, x, 0, D_IN, w, gemm, 0, D_OUT, false);
        return new float[][] {mv, gemm};
    }
}
