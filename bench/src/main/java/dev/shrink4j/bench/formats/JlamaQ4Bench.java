package dev.shrink4j.bench.formats;

import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.FloatBufferTensor;
import com.github.tjake.jlama.tensor.Q4ByteBufferTensor;
import com.github.tjake.jlama.tensor.operations.PanamaTensorOperations;
import com.github.tjake.jlama.util.MachineSpec;
import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * jlama's Panama Q4×F32 matvec (PanamaTensorOperations.batchDotProduct with F32 activations and a
 * Q4 weight, one thread) on the same 4096 × 4096 weight as ours: our symmetric int4 group-32
 * weight exported through {@code JlamaQ4}, so both sides multiply identical values. Our
 * group-32 kernel on the same data is measured in the same fork for the like-for-like row.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 7, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx6g",
    "-Djlama.force_panama_tensor_operations=true"})
public class JlamaQ4Bench {
    @Param({"4096"})
    public int size;

    Arena arena;
    UniformQuantized ours;    // (size, size) symmetric int4, group 32
    FormatKernels k;
    float[] x;                // (size)
    float[] y;                // (size)
    PanamaTensorOperations jlama;
    Q4ByteBufferTensor jw;    // (size, size)
    FloatBufferTensor jx;     // (1, size)
    FloatBufferTensor jy;     // (1, size)

    @Setup
    public void setup() {
        System.setProperty("jlama.force_panama_tensor_operations", "true");
        arena = Arena.ofShared();
        ours = (UniformQuantized) FormatBenchData.build(arena, "int4-g32-sym", size, size);
        k = FormatKernels.panama().orElseThrow();
        x = FormatBenchData.gaussian(size, 7, 1.0);
        y = new float[size];
        jlama = new PanamaTensorOperations(MachineSpec.VECTOR_TYPE);
        jw = JlamaQ4Weights.q4(arena, ours);
        jx = JlamaQ4Weights.row(x);
        jy = new FloatBufferTensor(1, size);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public AbstractTensor jlamaPanamaQ4F32() {
        jlama.batchDotProduct(jy, jx, jw, 0, 0, size, 0, 0, size);
        return jy;
    }

    @Benchmark
    public float[] oursInt4G32() {
        ours.matvec(x, y, k);
        return y;
    }
}
