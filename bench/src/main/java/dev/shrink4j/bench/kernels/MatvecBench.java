package dev.shrink4j.bench.kernels;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.kernels.Kernels;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * y = W·x with W (size, size) off-heap in F32 or BF16, all cores. Memory-bound: compare its bytes per
 * second with {@link ReadBandwidthBench} on a buffer of the same size.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class MatvecBench {
    @Param({"4096", "16384"})
    public int size;

    @Param({"F32", "BF16"})
    public String dtype;

    Arena arena;
    Tensor w;   // (size, size)
    float[] x;  // (size)
    float[] y;  // (size)
    Kernels kernels;

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        w = Tensor.allocate(arena, DType.parse(dtype), Shape.of(size, size));
        BenchData.fillRandom(w, 7);
        x = BenchData.randomFloats(size, 8);
        y = new float[size];
        kernels = Kernels.get();
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] matvec() {
        kernels.matvec(w, x, 0, y, 0, false);
        return y;
    }
}
