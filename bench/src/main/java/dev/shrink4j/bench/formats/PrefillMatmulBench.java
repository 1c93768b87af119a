package dev.shrink4j.bench.formats;

import dev.shrink4j.model.CompressedLinear;
import dev.shrink4j.model.DenseLinear;
import dev.shrink4j.model.Linear;
import dev.shrink4j.tensors.formats.DenseWeight;
import dev.shrink4j.tensors.formats.ActivationPrecision;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.FormatKernels;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
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
 * The prefill product of one TinyLlama-1.1B-shaped linear, Y = X·Ŵᵀ with X (m, d_in), in a compressed
 * format and in F32, paired: one JVM, the two products alternating call by call, each timed on its
 * own (aux counters {@code oursNanos}, {@code f32Nanos}, {@code pairs}; bench/run divides them), so a
 * loaded machine slows both sides alike. {@code kernel}: the format's kernel on the calling thread
 * ({@code w.matmul}; F32 through the dense GEMM). {@code layer}: {@link CompressedLinear#forward} on all
 * of the pool's threads, as the model runs it (F32: {@link DenseLinear}, the model's dense GEMM). Shapes: 2048 × 2048
 * (q/o_proj), 5632 × 2048 (gate/up_proj). {@code activations=int8} applies to the compressed layer.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx6g"})
public class PrefillMatmulBench {
    @Param({"int4-g32-sym"})
    public String format;

    @Param({"512"})
    public int m;

    @Param({"2048", "5632"})
    public int dOut;

    @Param({"2048"})
    public int dIn;

    @Param({"kernel", "layer"})
    public String level;

    @Param({"f32"})
    public String activations;

    Arena arena;
    CompressedWeight w;   // (dOut, dIn) in the format
    CompressedWeight f32; // (dOut, dIn) dense F32
    Linear layer, f32Layer;
    FormatKernels k;
    float[] x;            // (m, dIn)
    float[] y;            // (m, dOut)

    /** Per-iteration sums, reported by JMH beside the primary result. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Times {
        public long oursNanos;
        public long f32Nanos;
        public long pairs;

        @Setup(Level.Iteration)
        public void reset() {
            oursNanos = 0;
            f32Nanos = 0;
            pairs = 0;
        }
    }

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        w = FormatBenchData.build(arena, format, dOut, dIn);
        f32 = FormatBenchData.build(arena, "f32", dOut, dIn);
        layer = new CompressedLinear(w, null, ActivationPrecision.parse(activations));
        f32Layer = new DenseLinear(((DenseWeight) f32).weight(), null);
        k = FormatKernels.panama().orElseThrow();
        x = FormatBenchData.gaussian(m * dIn, 8, 1.0);
        y = new float[m * dOut];
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    /** One product in the format and one in F32; which goes first alternates. */
    @Benchmark
    public float pair(Times times) {
        boolean oursFirst = (times.pairs & 1) == 0;
        long t0 = System.nanoTime();
        float s = run(oursFirst);
        long t1 = System.nanoTime();
        s += run(!oursFirst);
        long t2 = System.nanoTime();
        times.oursNanos += oursFirst ? t1 - t0 : t2 - t1;
        times.f32Nanos += oursFirst ? t2 - t1 : t1 - t0;
        times.pairs++;
        return s;
    }

    private float run(boolean ours) {
        if (level.equals("layer")) {
            (ours ? layer : f32Layer).forward(x, m, y);
        } else {
            (ours ? w : f32).matmul(x, m, y, k);
        }
        return y[0];
    }
}
