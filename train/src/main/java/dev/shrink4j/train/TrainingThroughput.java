package dev.shrink4j.train;

import dev.shrink4j.model.Backprop;
import dev.shrink4j.tensors.kernels.Kernels;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Where a training step's time goes and how it compares with the machine's GEMM rate, measured in the
 * same process right after training (so under the same load): step time split into forward,
 * backward (Backprop's pass minus a forward-only pass of the same batch; it includes the per-block
 * recompute of the activations) and optimizer (clip + AdamW); model FLOPs per token 6·N (N = matmul
 * weights: block linears and LM head, the standard count without attention or recompute) and 8·N
 * with the recompute; the GEMM rate of one (batch·T, d_ff, d) product on all threads.
 *
 * @param tokensPerSecond  mean over the measured steps
 * @param forwardSeconds   one forward pass (loss only) of a training batch
 * @param backpropSeconds  mean forward + backward (Backprop.run) per step
 * @param optimizerSeconds mean clip + AdamW per step
 * @param matmulParams     N
 * @param gemmFlops        measured GEMM FLOP/s
 */
public record TrainingThroughput(double tokensPerSecond, double forwardSeconds, double backpropSeconds, double optimizerSeconds,
                                 long matmulParams, double gemmFlops, double tokensPerCpuSecond, double gemmFlopsPerCpuSecond) {

    /** From the step reports (the first 10 % skipped as warm-up) plus a forward pass and a GEMM timed now. */
    public static TrainingThroughput measure(TrainableModel model, List<Trainer.StepReport> reports, int batch, int seqLen, long seed) {
        int skip = reports.size() / 10;
        double step = 0, bp = 0, opt = 0, cpu = 0;
        long tokens = 0;
        int n = 0;
        for (int i = skip; i < reports.size(); i++) {
            Trainer.StepReport r = reports.get(i);
            step += r.stepSeconds();
            bp += r.backpropSeconds();
            opt += r.optimizerSeconds();
            cpu += r.cpuSeconds();
            n++;
        }
        tokens = (long) batch * seqLen * n;
        int[] ids = new int[batch * seqLen];
        SplittableRandom rng = new SplittableRandom(seed);
        int v = model.config().vocabSize();
        for (int i = 0; i < ids.length; i++) ids[i] = rng.nextInt(v);
        Backprop b = new Backprop(model.model());
        b.loss(ids, batch); // warm
        long t0 = System.nanoTime();
        int reps = 2;
        for (int i = 0; i < reps; i++) b.loss(ids, batch);
        double fwd = (System.nanoTime() - t0) / 1e9 / reps;
        long matmul = model.linearParameterCount() + (long) model.config().vocabSize() * model.config().hiddenSize();
        int m = batch * seqLen, f = model.config().intermediateSize(0), d = model.config().hiddenSize();
        double[] gemm = gemmRate(m, f, d);
        return new TrainingThroughput(n == 0 ? 0 : tokens / step, fwd, n == 0 ? 0 : bp / n, n == 0 ? 0 : opt / n, matmul, gemm[0],
                cpu > 0 ? tokens / cpu : 0, gemm[1]);
    }

    /**
     * FLOP/s of C (m, n) = A (m, k)·Bᵀ on all threads, best of a few runs by wall time, and FLOPs per
     * second of process CPU time over all runs (the rate per core actually given).
     */
    static double[] gemmRate(int m, int n, int k) {
        Kernels kernels = Kernels.get();
        SplittableRandom rng = new SplittableRandom(1);
        float[] a = new float[m * k];
        float[] b = new float[n * k];
        for (int i = 0; i < a.length; i++) a[i] = (float) rng.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextGaussian();
        float[] c = new float[m * n];
        double best = Double.MAX_VALUE;
        int runs = 5;
        long c0 = Trainer.cpuNanos();
        for (int r = 0; r < runs; r++) {
            long t0 = System.nanoTime();
            kernels.gemmABt(m, n, k, a, 0, k, b, 0, k, c, 0, n, false);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        double cpu = (Trainer.cpuNanos() - c0) / 1e9;
        double flops = 2.0 * m * n * k;
        return new double[] {flops / best, cpu > 0 ? runs * flops / cpu : 0};
    }

    public String summary() {
        double step = backpropSeconds + optimizerSeconds;
        double backward = Math.max(0, backpropSeconds - forwardSeconds);
        double achieved = 6.0 * matmulParams * tokensPerSecond;
        return String.format(Locale.ROOT,
                "throughput: %.0f tokens/s; step %.3f s = forward %.3f s (%.0f%%) + backward incl. recompute %.3f s (%.0f%%) + optimizer %.3f s (%.0f%%)%n"
                        + "model FLOP/s 6N = %.2f GFLOP/s (8N with recompute %.2f) vs GEMM %.2f GFLOP/s measured now: %.0f%% (%.0f%%) of GEMM peak; N = %,d matmul weights",
                tokensPerSecond, step, forwardSeconds, 100 * forwardSeconds / step, backward, 100 * backward / step, optimizerSeconds,
                100 * optimizerSeconds / step, achieved / 1e9, achieved * 8 / 6 / 1e9, gemmFlops / 1e9, 100 * achieved / gemmFlops,
                100 * achieved * 8 / 6 / gemmFlops, matmulParams)
                + String.format(Locale.ROOT, "%nper CPU-second (load-independent): %.0f tokens, 6N model %.2f GFLOP vs GEMM %.2f GFLOP: %.0f%% (8N: %.0f%%)",
                        tokensPerCpuSecond, 6.0 * matmulParams * tokensPerCpuSecond / 1e9, gemmFlopsPerCpuSecond / 1e9,
                        100 * 6.0 * matmulParams * tokensPerCpuSecond / gemmFlopsPerCpuSecond, 100 * 8.0 * matmulParams * tokensPerCpuSecond / gemmFlopsPerCpuSecond);
    }
}
