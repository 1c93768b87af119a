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
 * The streaming read bandwidth peer: sums an off-heap F32 buffer of {@code mib} MiB on all cores
 * (one vector add per 64 bytes, far below the compute limit, so it runs at the memory's pace).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ReadBandwidthBench {
    /** 64 MiB = a 4096² F32 matrix, 1024 MiB = 16384². */
    @Param({"64", "1024"})
    public int mib;

    Arena arena;
    Tensor buffer; // (mib · 2^18) floats
    Kernels kernels;

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        buffer = Tensor.allocate(arena, DType.F32, Shape.of((long) mib << 18));
        BenchData.fillRandom(buffer, 3);
        kernels = Kernels.get();
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public double sum() {
        return kernels.sum(buffer);
    }
}
