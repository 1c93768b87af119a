package dev.shrink4j.bench.linalg;

import dev.shrink4j.tensors.linalg.RandomizedSvd;
import dev.shrink4j.tensors.linalg.Svd;
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
 * Exact thin SVD (U, σ, Vᵀ) and randomized rank-256 SVD on one thread. One op takes tens of seconds
 * at these sizes: run with few iterations, e.g. {@code BENCH_JMH_OPTS='-f 1 -wi 0 -i 2 -r 1s'}.
 * Shapes: {@code gaussian-4096x4096} (the LAPACK comparison) and {@code decaying-4096x11008}
 * (an LLM-weight-like spectrum, see {@link LinalgData#decaying}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SvdBench {
    static {
        LinalgData.singleThread();
    }

    @Param({"gaussian-4096x4096", "decaying-4096x11008"})
    public String shape;

    @Param({"256"})
    public int rank;

    double[] a; // (m, n)
    int m;
    int n;

    @Setup
    public void setup() {
        String[] kindDims = shape.split("-");
        String[] dims = kindDims[1].split("x");
        m = Integer.parseInt(dims[0]);
        n = Integer.parseInt(dims[1]);
        a = kindDims[0].equals("gaussian") ? LinalgData.gaussian(m, n, 7) : LinalgData.decaying(m, n, 7);
    }

    @Benchmark
    public Svd exact() {
        return Svd.of(a, m, n);
    }

    @Benchmark
    public Svd randomized() {
        return RandomizedSvd.ofRank(rank).compute(a, m, n);
    }
}
