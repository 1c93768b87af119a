package dev.shrink4j.bench.lowrank;

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

/** The exact thin SVD {@code shrink4j lowrank} uses for small matrices and near-full ranks; peer: LAPACK gesdd via NumPy. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ExactSvdBench {
    @Param({"1024"})
    public int size;

    double[] a; // (size, size)

    @Setup
    public void setup() {
        SplittableRandom r = new SplittableRandom(1);
        a = new double[size * size];
        for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextDouble() - 0.5);
    }

    /** All triplets of a (size, size) fp64 matrix. */
    @Benchmark
    public Svd exactSvd() {
        return SvdSolver.exact().leading(a, size, size, size);
    }
}
