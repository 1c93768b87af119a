package dev.shrink4j.bench.linalg;

import dev.shrink4j.tensors.linalg.RandomizedSvd;
import dev.shrink4j.tensors.linalg.Svd;

/**
 * Prints the Frobenius error of the randomized rank-r SVD against the optimal rank-r error
 * (√Σ_{i>r} σ_i² from the exact SVD) and both run times (thread CPU time), for the rsvd row's accuracy condition.
 * Usage: {@code java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar
 * dev.shrink4j.bench.linalg.RsvdAccuracy [m n rank]} (default 4096 11008 256).
 */
public final class RsvdAccuracy {
    private RsvdAccuracy() {}

    public static void main(String[] args) {
        LinalgData.singleThread();
        int m = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 11008;
        int r = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        double[] a = LinalgData.decaying(m, n, 7);
        // thread CPU time: on a shared machine it is steadier than wall time (everything here runs on this thread)
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long t0 = mx.getCurrentThreadCpuTime();
        Svd approx = RandomizedSvd.ofRank(r).compute(a, m, n);
        long t1 = mx.getCurrentThreadCpuTime();
        Svd exact = Svd.of(a, m, n);
        long t2 = mx.getCurrentThreadCpuTime();
        double optimal = 0;
        for (int i = r; i < exact.k(); i++) {
            optimal += exact.s()[i] * exact.s()[i];
        }
        optimal = Math.sqrt(optimal);
        double[] back = approx.reconstruct();
        double err = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - back[i];
            err += d * d;
        }
        err = Math.sqrt(err);
        System.out.printf("rsvd rank %d of %dx%d: error %.6g, optimal %.6g, ratio %.4f; randomized %.2f s, exact %.2f s (thread CPU), speedup %.1fx%n",
                r, m, n, err, optimal, err / optimal, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (double) (t2 - t1) / (t1 - t0));
    }
}
