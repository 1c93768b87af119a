package dev.shrink4j.bench.lowrank;

import dev.shrink4j.lowrank.LostDecomposition;
import dev.shrink4j.lowrank.Lost;
import dev.shrink4j.lowrank.SvdSolver;
import dev.shrink4j.tensors.linalg.Svd;
import java.util.SplittableRandom;
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
 * The SVD work of {@code shrink4j lowrank} on one layer: the randomized truncated SVD of docs/methods/lowrank-lost.md §1 (rank r,
 * 10 extra samples, 2 power iterations) and the whole docs/methods/lowrank-lost.md §6 LOST decomposition built on it. Peers: the same algorithms in NumPy on LAPACK/OpenBLAS ({@code bench/peers/lowrank.py}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class LowRankBench {
    @Param({"4096"})
    public int size;

    @Param({"256"})
    public int rank;

    double[] a; // (size, size)
    float[] w; // (size, size)
    SvdSolver randomized;

    @Setup
    public void setup() {
        SplittableRandom r = new SplittableRandom(1);
        a = new double[size * size];
        w = new float[size * size];
        for (int i = 0; i < a.length; i++) {
            w[i] = (float) (r.nextDouble() - 0.5);
            a[i] = w[i];
        }
        randomized = SvdSolver.randomized(2, 0);
    }

    /** Randomized rank-{@code rank} SVD of a (size, size) fp64 matrix. */
    @Benchmark
    public Svd randomizedSvd() {
        return randomized.leading(a, size, size, rank);
    }

    /** LOST (docs/methods/lowrank-lost.md §6 defaults, ρ = 0.05): rank-{@code rank} factors + the 5 % input columns of the residual. */
    @Benchmark
    public LostDecomposition lost() {
        return new Lost(randomized, Lost.Options.compression()).decompose(w, size, size, rank, Math.max(1, size / 20));
    }
}
