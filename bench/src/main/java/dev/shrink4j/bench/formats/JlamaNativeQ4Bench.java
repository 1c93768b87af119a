package dev.shrink4j.bench.formats;

import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.FloatBufferTensor;
import com.github.tjake.jlama.tensor.Q4ByteBufferTensor;
import com.github.tjake.jlama.tensor.operations.NativeSimdTensorOperations;
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
 * jlama-native's Q4×I8 matvec (C, AVX2/AVX-512 via FFM) in its own fork with its own flags (native
 * operations, off-heap tensors), one thread. It quantizes activations to int8 first (blocks of 32);
 * {@link #quantizeAndMultiply} counts that, {@link #multiplyQ8} measures the kernel alone. Weights
 * are the same symmetric int4 group-32 values as {@link JlamaQ4Bench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 7, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx6g",
    "-Djlama.force_panama_tensor_operations=false"})
public class JlamaNativeQ4Bench {
    @Param({"4096"})
    public int size;

    Arena arena;
    NativeSimdTensorOperations ops;
    Q4ByteBufferTensor jw;    // (size, size)
    FloatBufferTensor jx;     // (1, size) F32 activations
    AbstractTensor jx8;       // (1, size) int8 activations, blocks of 32
    FloatBufferTensor jy;     // (1, size)

    @Setup
    public void setup() {
        // bench/run appends -Djlama.force_panama_tensor_operations=true to every fork; jlama reads the
        // property when its operations provider first loads, which has not happened yet in this fork.
        System.setProperty("jlama.force_panama_tensor_operations", "false");
        arena = Arena.ofShared();
        UniformQuantized w = (UniformQuantized) FormatBenchData.build(arena, "int4-g32-sym", size, size);
        ops = new NativeSimdTensorOperations();
        jw = JlamaQ4Weights.q4(arena, w);
        jx = JlamaQ4Weights.row(FormatBenchData.gaussian(size, 7, 1.0));
        jx8 = ops.quantize(jx, DType.I8, 0, size);
        jy = new FloatBufferTensor(1, size);
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public AbstractTensor multiplyQ8() {
        ops.batchDotProduct(jy, jx8, jw, 0, 0, size, 0, 0, size);
        return jy;
    }

    @Benchmark
    public AbstractTensor quantizeAndMultiply() {
        AbstractTensor q = ops.quantize(jx, DType.I8, 0, size);
        ops.batchDotProduct(jy, q, jw, 0, 0, size, 0, 0, size);
        return jy;
    }
}
