package dev.shrink4j.cli;

import dev.shrink4j.tensors.kernels.Kernels;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A short measurement of this machine, now, for {@link CostModel}: how fast the kernels the run will use
 * go at the model's own widths, under whatever else the machine is doing at this moment (a probe runs
 * beside the same neighbours the run will have; that is the point of measuring instead of assuming).
 *
 * <p>Two rates, each timed once the JIT has compiled it (see {@link #rate}): a GEMM (A (m, k) · Bᵀ,
 * B (n, k), F32, the kernels' threads), the shape of a block forward over the calibration, a Hessian
 * SYRK, GPTQ's lazy-batch updates; and a streaming axpy (y += a·x over 4 MiB, one thread), the shape of
 * per-weight work: RTN, packing, LNQ's coordinate-descent updates, k-means. The GEMM's width is the
 * model's hidden size clamped to [64, 512], so a tiny model is probed at its own size.
 *
 * @param gemmFlops   F32 GEMM rate, FLOP/s (2·m·n·k per call)
 * @param matvecFlops F32 streaming rate, FLOP/s (axpy, 2 per element)
 * @param handoffSeconds one parallel hand-off (Parallel.forEach over the kernels' threads, empty body): what every
 *                    parallel kernel call pays on top of its work; on a loaded machine the threads wait for a
 *                    CPU, and for a small model this, not the FLOPs, is the run's time
 * @param jitSeconds how long the JIT took to compile the GEMM kernel's loops from the probe's start ({@link #compile}):
 *                    every code path of a run pays a delay like it the first time, so on a loaded machine, where
 *                    the compiler threads wait for a CPU, a small model's run is mostly this
 * @param startupSeconds the JVM's start-up until the probe began (class loading, JIT of the CLI): a run pays it too
 * @param loadAverage the 1-minute load average when probed (NaN where /proc is absent), to say how loaded the machine was
 */
record MachineProbe(double gemmFlops, double matvecFlops, double handoffSeconds, double jitSeconds, double startupSeconds, double loadAverage) {
    /** One timing window: a few scheduler slices. */
    static final long WINDOW_NANOS = 60_000_000L;
    /** A small GEMM at this rate runs compiled code (see {@link #compile}). */
    static final double COMPILED_FLOPS = 1e9;
    /** Longest wait for the JIT (measured: ten seconds on this 2-core machine at load 16). */
    static final long COMPILE_MAX_NANOS = 15_000_000_000L;
    /** Compiled windows per rate. */
    static final int WINDOWS = 5;
    /** Longest the timed windows run when the JIT keeps compiling (a loaded machine). */
    static final long MEASURE_MAX_NANOS = 2_000_000_000L;
    /** A window at least this fraction of the fastest ran compiled code (see {@link #compiled}). */
    static final double COMPILED_FRACTION = 0.2;
    /** Untimed warm-up per rate where the JIT's activity cannot be watched (small calls first: JIT thresholds are counts). */
    static final long WARMUP_NANOS = 600_000_000L;
    /** Longest warm-up when the JIT's activity can be watched. */
    static final long WARMUP_MAX_NANOS = 4_000_000_000L;
    /**
     * GEMM rows: a slice of a calibration chunk, large enough for the kernels to split it over their
     * threads as they split the run's 2048-row passes, small enough that a timing window holds many calls.
     */
    static final int GEMM_ROWS = 256;
    /** Streaming probe length: 4 MiB of F32, past the L2 caches, as the run's weight-sized sweeps are. */
    static final int STREAM_LENGTH = 1 << 20;

    /** Measures both rates at the model's width ({@link #width}). */
    static MachineProbe measure(int hidden) {
        int k = width(hidden);
        double startup = ManagementFactory.getRuntimeMXBean().getUptime() / 1e3;
        Kernels kernels = Kernels.get();
        SplittableRandom r = new SplittableRandom(1);
        float[] a = random(r, GEMM_ROWS * k), b = random(r, k * k), c = new float[GEMM_ROWS * k];
        float[] x = random(r, STREAM_LENGTH), y = new float[STREAM_LENGTH];
        float[] sa = random(r, 16 * 64), sb = random(r, 64 * 64), sc = new float[16 * 64];
        // Small calls until they run compiled (JIT thresholds are counts: small calls reach them soonest; a
        // large call interpreted takes a second, and under load C2 may take ten to get to it).
        long jitStart = System.nanoTime();
        double small = compile(2.0 * 16 * 64 * 64, () -> {
            kernels.gemmABt(16, 64, 64, sa, sb, sc);
            kernels.axpy(4096, 1e-3f, x, 0, y, 0);
        });
        double jit = (System.nanoTime() - jitStart) / 1e9;
        // The small compiled GEMM is a floor: at load 24 the large call's parallel path was still interpreted
        // after the windows (0.2 GFLOP/s), while the run, minutes long, compiles it.
        double gemm = Math.max(small, rate(2.0 * GEMM_ROWS * k * k, () -> kernels.gemmABt(GEMM_ROWS, k, k, a, b, c)));
        double stream = rate(2.0 * STREAM_LENGTH, () -> kernels.axpy(STREAM_LENGTH, 1e-3f, x, 0, y, 0));
        int threads = Math.max(2, kernels.threads());
        double handoff = 1 / rate(1, () -> dev.shrink4j.tensors.Parallel.forEach(threads, i -> { }));
        return new MachineProbe(gemm, stream, handoff, jit, startup, currentLoadAverage());
    }

    /** The GEMM probe's width for a model of hidden size {@code hidden}: clamped to [64, 512]. */
    static int width(int hidden) {
        return Math.clamp(hidden, 64, 512);
    }

    /**
     * FLOP/s of {@code op} once compiled: the Vector API runs a thousand times slower interpreted, and C1's
     * code (no intrinsics) is slow but steady, so a rate that "settles" proves nothing; each probe first runs
     * until the JIT is idle ({@link #warmUp}), then times windows until {@link #WINDOWS} of them ran compiled
     * code ({@link #compiled}); their median is the answer: compiled code under the present load.
     */
    private static double rate(double flopsPerCall, Runnable op) {
        warmUp(op);
        java.util.List<Double> rates = new java.util.ArrayList<>();
        long deadline = System.nanoTime() + MEASURE_MAX_NANOS;
        while (true) {
            long start = System.nanoTime(), calls = 0, now;
            do {
                op.run();
                calls++;
                now = System.nanoTime();
            } while (now - start < WINDOW_NANOS);
            rates.add(flopsPerCall * calls / ((now - start) / 1e9));
            List<Double> compiled = compiled(rates);
            if (compiled.size() >= WINDOWS || now > deadline) {
                // The median compiled window: one that lost its CPU to a neighbour does not decide.
                return compiled.get(compiled.size() / 2);
            }
        }
    }

    /**
     * The windows that ran compiled code, sorted: within a factor {@link #COMPILED_FRACTION} of the fastest.
     * Interpreted or C1 Vector API code is 10–1000× slower; a window that merely shared its CPU is not.
     */
    static List<Double> compiled(List<Double> rates) {
        double best = java.util.Collections.max(rates);
        return rates.stream().filter(r -> r >= COMPILED_FRACTION * best).sorted().toList();
    }

    /**
     * Runs {@code op} in short windows until it reaches {@link #COMPILED_FLOPS} (the Vector API interpreted or
     * in C1 code stays far below it on any CPU; compiled, far above it even on a shared core), or for at most
     * {@link #COMPILE_MAX_NANOS}; returns the last window's rate.
     */
    private static double compile(double flopsPerCall, Runnable op) {
        long deadline = System.nanoTime() + COMPILE_MAX_NANOS;
        double r = 0;
        while (System.nanoTime() < deadline) {
            long start = System.nanoTime(), calls = 0, now;
            do {
                op.run();
                calls++;
                now = System.nanoTime();
            } while (now - start < WINDOW_NANOS / 2);
            r = flopsPerCall * calls / ((now - start) / 1e9);
            if (r >= COMPILED_FLOPS) return r;
        }
        return r;
    }

    /**
     * Runs {@code op} until the JIT is idle: no compilation finished during the last of at least three windows
     * (CompilationMXBean's total compile time stands still), or {@link #WARMUP_MAX_NANOS} have passed. On a
     * loaded machine the compiler threads wait for a CPU like everyone else, so a fixed warm-up is too short
     * one time and wasted the next.
     */
    private static void warmUp(Runnable op) {
        java.lang.management.CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean monitored = jit != null && jit.isCompilationTimeMonitoringSupported();
        long deadline = System.nanoTime() + (monitored ? WARMUP_MAX_NANOS : WARMUP_NANOS);
        long compiled = monitored ? jit.getTotalCompilationTime() : 0;
        for (int w = 0; System.nanoTime() < deadline; w++) {
            long end = System.nanoTime() + WINDOW_NANOS;
            while (System.nanoTime() < end) op.run();
            if (!monitored) continue;
            long now = jit.getTotalCompilationTime();
            if (w >= 2 && now == compiled) return;
            compiled = now;
        }
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() - 0.5);
        return v;
    }

    private static double currentLoadAverage() {
        try {
            return Double.parseDouble(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split("\\s+")[0]);
        } catch (java.io.IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
