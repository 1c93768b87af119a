package dev.shrink4j.bench.kernels;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.kernels.Kernels;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The matvec (F32 by default) and the read-bandwidth sum of {@link MatvecBench} and {@link ReadBandwidthBench},
 * paired: one JVM, one buffer (the matvec's weight, summed as a flat vector), the two kernels
 * alternating call by call, each timed on its own. {@link MatvecBench} and {@link ReadBandwidthBench}
 * run in separate forks with separately allocated buffers, and here the read rate of one 64 MiB buffer
 * varies by ±15 % from fork to fork (which physical pages it gets, how much of it the 32 MiB L3 keeps,
 * what the neighbours do): a pair measured in one fork on the same bytes sees the same conditions, so
 * their per-iteration ratio is the kernel's own efficiency.
 *
 * <p>The secondary results (JMH "aux counters", summed over each iteration) are the nanoseconds spent
 * in each kernel and the number of pairs; bench/run divides them ({@code @matvecNanos/pairs}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class MatvecReadPairBench {
    /** The weight has size² elements ... */
    @Param({"4096", "16384"})
    public int size;

    /** ... in rows this wide (0: square). Short rows, e.g. 2048 as in TinyLlama, take the one-row path. */
    @Param({"0"})
    public int cols;

    @Param({"F32"})
    public String dtype;

    Arena arena;
    Tensor w;     // (size² / cols, cols)
    Tensor flat;  // the same bytes, (size²)
    float[] x;    // (cols)
    float[] y;    // (size² / cols)
    Kernels kernels;

    /** Per-iteration sums, reported by JMH beside the primary result. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Times {
        public long matvecNanos;
        public long sumNanos;
        public long pairs;

        @Setup(Level.Iteration)
        public void reset() {
            matvecNanos = 0;
            sumNanos = 0;
            pairs = 0;
        }
    }

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        int width = cols == 0 ? size : cols;
        long rows = (long) size * size / width;
        w = Tensor.allocate(arena, DType.parse(dtype), Shape.of(rows, width));
        BenchData.fillRandom(w, 7);
        flat = w.reshape(Shape.of(rows * width));
        x = BenchData.randomFloats(width, 8);
        y = new float[(int) rows];
        kernels = Kernels.get();
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    /** One matvec and one sum of the same bytes; which goes first alternates, so neither always follows the other. */
    @Benchmark
    public double pair(Times times) {
        boolean matvecFirst = (times.pairs & 1) == 0;
        long t0 = System.nanoTime();
        double s = matvecFirst ? matvec() : kernels.sum(flat);
        long t1 = System.nanoTime();
        s += matvecFirst ? kernels.sum(flat) : matvec();
        long t2 = System.nanoTime();
        times.matvecNanos += matvecFirst ? t1 - t0 : t2 - t1;
        times.sumNanos += matvecFirst ? t2 - t1 : t1 - t0;
        times.pairs++;
        return s;
    }

    private double matvec() {
        kernels.matvec(w, x, 0, y, 0, false);
        return y[0];
    }
}
