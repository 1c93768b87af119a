package dev.shrink4j.bench.prune;

import dev.shrink4j.prune.SparseGpt;
import dev.shrink4j.tensors.linalg.Damping;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * SparseGPT on one square layer (docs/methods/pruning.md §3): the 50 % unstructured column sweep with lazy block
 * updates (bs = 128) given U, the upper Cholesky factor of the damped H⁻¹, and the factorization
 * itself. The peer ({@code bench/peers/prune.py}) runs the reference algorithm in NumPy on the same
 * shapes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SparseGptBench {
    @Param({"4096"})
    public int size;

    float[] w0; // (size, size)
    float[] w; // (size, size) scratch
    float[] u; // (size, size) upper factor of H⁻¹
    double[] h; // (size, size) H = XᵀX/n

    @Setup
    public void setup() {
        Random r = new Random(1);
        int d = size;
        w0 = new float[d * d];
        for (int i = 0; i < w0.length; i++) {
            w0[i] = (float) r.nextGaussian();
        }
        w = new float[d * d];
        // H from 1024 random tokens (rank-deficient for d > 1024; the 1 % damping makes it definite),
        // the same construction as the NumPy peer
        int n = 1024;
        float[] x = new float[n * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        h = new double[d * d];
        final double[] hh = h;
        java.util.stream.IntStream.range(0, d).parallel().forEach(i -> {
            int row = i * d;
            for (int t = 0; t < n; t++) {
                double xi = x[t * d + i] / (double) n;
                for (int j = i; j < d; j++) {
                    hh[row + j] += xi * x[t * d + j];
                }
            }
        });
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < i; j++) {
                h[i * d + j] = h[j * d + i];
            }
        }
        double[] f = Damping.factor(h, d, Damping.Factor.INVERSE_UPPER, Damping.Policy.GPTQ, null).factor();
        u = new float[d * d];
        for (int i = 0; i < f.length; i++) {
            u[i] = (float) f[i];
        }
    }

    /** The sweep: mask selection per block, OBS updates, lazy block updates. */
    @Benchmark
    public float[] sweep() {
        System.arraycopy(w0, 0, w, 0, w.length);
        SparseGpt.prune(w, size, size, u, 0.5, null, SparseGpt.BLOCK_SIZE);
        return w;
    }

    /** Damping and U = chol(H⁻¹)ᵀ in fp64 (docs/methods/pipeline.md §3, docs/methods/rtn-gptq.md §2.1 step 4). */
    @Benchmark
    public double[] inverseFactor() {
        return Damping.factor(h, size, Damping.Factor.INVERSE_UPPER, Damping.Policy.GPTQ, null).factor();
    }
}
