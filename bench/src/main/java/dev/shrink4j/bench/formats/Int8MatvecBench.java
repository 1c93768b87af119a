package dev.shrink4j.bench.formats;

import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.Int8Activations;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * y = Ŵ·x, 4096 × 4096, one thread, uniform 4/8-bit weights: with F32 activations ({@link #f32}, the
 * kernel of {@link FormatMatvecBench}) and with int8 activations in blocks of 32 ({@link #int8}: the
 * integer kernel alone on pre-quantized x; {@link #int8WithQuantize}: quantizing x each call too, as
 * the runtime does). Same weights, same JVM fork, so the two are compared side by side; {@link #pair}
 * alternates the two call by call (aux counters {@code int8Nanos}, {@code f32Nanos}, {@code pairs};
 * bench/run divides them), the ratio that holds up on a loaded machine.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 7, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx6g"})
public class Int8MatvecBench {
    @Param({"int4-g32-sym", "int4-g128", "int8-g128"})
    public String format;

    @Param({"4096"})
    public int size;

    Arena arena;
    UniformQuantized w; // (size, size)
    FormatKernels k;
    float[] x;          // (size)
    Int8Activations xq; // x quantized, blocks of 32
    float[] y;          // (size)

    /** Per-iteration sums, reported by JMH beside the primary result. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Times {
        public long int8Nanos;
        public long f32Nanos;
        public long pairs;

        @Setup(Level.Iteration)
        public void reset() {
            int8Nanos = 0;
            f32Nanos = 0;
            pairs = 0;
        }
    }

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        w = (UniformQuantized) FormatBenchData.build(arena, format, size, size);
        k = FormatKernels.panama().orElseThrow();
        x = FormatBenchData.gaussian(size, 7, 1.0);
        xq = Int8Activations.quantize(x, 1, size);
        y = new float[size];
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public float[] f32() {
        k.uniformMatvec(w, x, y);
        return y;
    }

    @Benchmark
    public float[] int8() {
        k.uniformMatvecInt8(w, xq, y);
        return y;
    }

    @Benchmark
    public float[] int8WithQuantize() {
        k.uniformMatvecInt8(w, Int8Activations.quantize(x, 1, size), y);
        return y;
    }

    /** {@link #int8WithQuantize} and {@link #f32} on the same x; which goes first alternates. */
    @Benchmark
    public float pair(Times times) {
        boolean int8First = (times.pairs & 1) == 0;
        long t0 = System.nanoTime();
        float s = (int8First ? int8WithQuantize() : f32())[0];
        long t1 = System.nanoTime();
        s += (int8First ? f32() : int8WithQuantize())[0];
        long t2 = System.nanoTime();
        times.int8Nanos += int8First ? t1 - t0 : t2 - t1;
        times.f32Nanos += int8First ? t2 - t1 : t1 - t0;
        times.pairs++;
        return s;
    }
}
