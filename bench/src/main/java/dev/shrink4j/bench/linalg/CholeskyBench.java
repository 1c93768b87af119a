package dev.shrink4j.bench.linalg;

import dev.shrink4j.tensors.linalg.Cholesky;
import dev.shrink4j.tensors.linalg.Spd;
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
 * fp64 Cholesky of an SPD (size, size) matrix on one thread, and GPTQ's inverse factor (U with
 * UᵀU = H⁻¹). Each op copies the input first (as SciPy's {@code cholesky} does). Peer: SciPy/LAPACK
 * dpotrf, and dpotrf → dpotri → dpotrf for the factor ({@code bench/peers/linalg.py}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class CholeskyBench {
    static {
        LinalgData.singleThread();
    }

    @Param({"4096"})
    public int size;

    double[] h; // (size, size)
    double[] work; // (size, size)

    @Setup
    public void setup() {
        h = LinalgData.spd(size, 1);
        work = new double[h.length];
    }

    @Benchmark
    public double[] cholesky() {
        System.arraycopy(h, 0, work, 0, h.length);
        if (Cholesky.tryFactorUpper(work, size) >= 0) {
            throw new IllegalStateException("benchmark matrix is not SPD");
        }
        return work;
    }

    @Benchmark
    public double[] gptqFactor() {
        System.arraycopy(h, 0, work, 0, h.length);
        if (Spd.tryInverseUpperFactor(work, size) >= 0) {
            throw new IllegalStateException("benchmark matrix is not SPD");
        }
        return work;
    }
}
