package dev.shrink4j.bench.quantize;

import dev.shrink4j.quantize.Gptq;
import dev.shrink4j.quantize.GptqOptions;
import dev.shrink4j.quantize.LayerError;
import dev.shrink4j.quantize.Lnq;
import dev.shrink4j.quantize.LnqOptions;
import dev.shrink4j.quantize.LutCodes;
import dev.shrink4j.quantize.SqueezeLlm;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One layer quantized from a given H (docs/methods/rtn-gptq.md §2 GPTQ, docs/methods/guidedquant-lnq.md §5 LNQ), the same data and the same math as
 * {@code bench/peers/quantize.py}: W and H come from {@link QuantizeLayerData}'s integer formulas, so
 * both sides quantize identical inputs and print the same layer error.
 *
 * <p>One operation takes seconds to minutes, so each iteration times exactly one (single shot); the
 * warm-up shot takes the JIT compilation out of the measured ones.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 2)
public class QuantizeLayerBench {
    @Param({"512", "1024", "4096"})
    public int size;

    /** LNQ outer iterations T and sweeps K in the row (the paper's 2 / 4 at full cost). */
    @Param({"1"})
    public int lnqIterations;

    @Param({"1"})
    public int lnqSweeps;

    float[] w; // (size, size)
    double[] h; // (size, size)
    LutCodes init;

    @Setup
    public void setup() {
        w = QuantizeLayerData.weights(size);
        h = QuantizeLayerData.hessian(size);
    }

    /** 4-bit asymmetric, group 128, act-order with static groups, bs = 128, δ = 0.01. */
    @Benchmark
    public Gptq.Result gptq() {
        return Gptq.quantize(w, h, size, size, GptqOptions.defaults(4, 128, false));
    }

    /** SqueezeLLM init (unweighted) + LNQ 4-bit. */
    @Benchmark
    public Lnq.Result lnq() {
        LutCodes start = SqueezeLlm.quantize(w, null, size, size, 4);
        return Lnq.quantize(w, h, size, size, start, LnqOptions.defaults(4).withIterations(lnqIterations, lnqSweeps));
    }

    /** {@code N [T K] [gptq|lnq|both]}: times and layer errors, for the equal-error check against the NumPy peer. */
    public static void main(String[] a) {
        QuantizeLayerBench b = new QuantizeLayerBench();
        b.size = Integer.parseInt(a[0]);
        b.lnqIterations = a.length > 1 ? Integer.parseInt(a[1]) : 1;
        b.lnqSweeps = a.length > 2 ? Integer.parseInt(a[2]) : 1;
        String which = a.length > 3 ? a[3] : "both";
        b.setup();
        for (int rep = 0; rep < 2; rep++) {
            if (!which.equals("lnq")) {
                long t0 = System.nanoTime();
                Gptq.Result g = b.gptq();
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("size %d: gptq %.2fs error %.6g%n", b.size, s, LayerError.of(b.w, g.quantized().dequantize(), b.h, b.size, b.size));
            }
            if (!which.equals("gptq")) {
                long t0 = System.nanoTime();
                Lnq.Result l = b.lnq();
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("size %d: lnq T=%d K=%d %.2fs error %.6g (init %.6g)%n", b.size, b.lnqIterations, b.lnqSweeps, s,
                        l.fAfter(), l.fBefore());
            }
        }
    }
}
