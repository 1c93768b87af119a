package dev.shrink4j.bench.kernels;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.kernels.Kernels;
import java.util.SplittableRandom;

/** Deterministic filler data for benchmarks. */
final class BenchData {
    private BenchData() {}

    static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() - 0.5);
        return v;
    }

    /** Fills a tensor of any float dtype with uniform values in [−0.5, 0.5), a chunk at a time. */
    static void fillRandom(Tensor t, long seed) {
        float[] chunk = randomFloats(1 << 16, seed);
        long n = t.numel();
        for (long done = 0; done < n; done += chunk.length) {
            int c = (int) Math.min(chunk.length, n - done);
            if (t.dtype() == DType.F32) {
                t.writeFloats(done, chunk, 0, c);
            } else {
                Kernels.get().fromF32(t.dtype(), chunk, 0, t.segment(), done * t.dtype().byteSize(), c);
            }
        }
    }
}
