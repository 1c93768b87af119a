package dev.shrink4j.tensors;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * The shared workers for data-parallel kernels, sized to the cores ({@code -Dshrink4j.threads=N}
 * overrides). Work is split into a few coarse chunks; the calling thread runs chunks itself. A region
 * goes to the {@link KernelTeam} (helpers that poll for {@code -Dshrink4j.poll.micros}, default 100 µs,
 * after each region, so back-to-back kernels do not pay a thread wake-up each); a region started while
 * the team is busy — nested inside a chunk, or from a second application thread — runs on one
 * {@link ForkJoinPool} instead, where nesting is fine: fork/join lets a waiting worker run other chunks.
 */
public final class Parallel {
    /** System property for the worker count. */
    public static final String PROPERTY = "shrink4j.threads";
    /** System property: how long an idle team helper polls for the next region before it parks (0: no team). */
    public static final String POLL_PROPERTY = "shrink4j.poll.micros";
    private static final int THREADS = configuredThreads();
    private static final long POLL_MICROS = configuredPollMicros();
    private static volatile ForkJoinPool pool;
    private static volatile KernelTeam team;

    private Parallel() {}

    /** Workers available to kernels: {@code shrink4j.threads}, else the number of available processors. */
    public static int threads() {
        return THREADS;
    }

    private static int configuredThreads() {
        return (int) integerProperty(PROPERTY, Math.max(1, Runtime.getRuntime().availableProcessors()), 1, "a positive integer");
    }

    private static long configuredPollMicros() {
        return integerProperty(POLL_PROPERTY, 100, 0, "microseconds, a non-negative integer");
    }

    /** The integer system property {@code name} (≥ min), {@code unset} when absent; a clear error otherwise. */
    private static long integerProperty(String name, long unset, long min, String expected) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            return unset;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n >= min && n <= Integer.MAX_VALUE) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + name + "=" + v + ": expected " + expected);
    }

    private static ForkJoinPool pool() {
        ForkJoinPool p = pool;
        if (p == null) {
            synchronized (Parallel.class) {
                p = pool;
                if (p == null) {
                    p = new ForkJoinPool(Math.max(1, THREADS), ForkJoinPool.defaultForkJoinWorkerThreadFactory, null, false);
                    pool = p;
                }
            }
        }
        return p;
    }

    /** The team, started on first use; null with one thread or polling switched off. */
    private static KernelTeam team() {
        KernelTeam t = team;
        if (t == null && THREADS > 1 && POLL_MICROS > 0) {
            synchronized (Parallel.class) {
                t = team;
                if (t == null) {
                    t = new KernelTeam(THREADS, POLL_MICROS * 1000);
                    team = t;
                }
            }
        }
        return t;
    }

    /** A body run once per chunk index. */
    @FunctionalInterface
    public interface Chunk {
        void run(int chunk);
    }

    /** Runs {@code body.run(i)} for i in [0, chunks), in parallel; returns when all are done. */
    public static void forEach(int chunks, Chunk body) {
        if (chunks <= 0) {
            return;
        }
        if (chunks == 1) {
            body.run(0);
            return;
        }
        KernelTeam kernelTeam = team();
        if (kernelTeam != null && kernelTeam.tryRun(chunks, body)) {
            return;
        }
        // Failures are kept as thrown (join would wrap them) and rethrown on the caller.
        Throwable[] failures = new Throwable[chunks];
        List<ForkJoinTask<?>> tasks = new ArrayList<>(chunks - 1);
        for (int i = 1; i < chunks; i++) {
            int c = i;
            tasks.add(new RecursiveAction() {
                @Override
                protected void compute() {
                    try {
                        body.run(c);
                    } catch (Throwable t) {
                        failures[c] = t;
                    }
                }
            });
        }
        if (ForkJoinTask.inForkJoinPool()) {
            for (ForkJoinTask<?> t : tasks) t.fork();
        } else {
            ForkJoinPool p = pool();
            for (ForkJoinTask<?> t : tasks) p.execute(t);
        }
        Throwable failure = null;
        try {
            body.run(0);
        } catch (Throwable t) {
            failure = t;
        }
        for (ForkJoinTask<?> t : tasks) t.join();
        for (Throwable e : failures) {
            if (e == null) continue;
            if (failure == null) failure = e;
            else failure.addSuppressed(e);
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error er) throw er;
        if (failure != null) throw new IllegalStateException(failure);
    }

    private static final Thread STRANGER = new Thread(() -> {});

    /**
     * True when pool workers may touch {@code segment}: false for a confined arena's memory, which
     * only its owner thread may access. Kernels then run on the calling thread.
     */
    public static boolean shareable(java.lang.foreign.MemorySegment segment) {
        return segment.isAccessibleBy(STRANGER);
    }

    /** A body run on the index range [from, to). */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /**
     * Splits [0, n) into at most {@code threads} contiguous ranges whose bounds are multiples of
     * {@code grain} (except the end) and runs them in parallel.
     */
    public static void forRange(int n, int grain, int threads, Range body) {
        if (n <= 0) {
            return;
        }
        int g = Math.max(1, grain);
        int units = (n + g - 1) / g;
        int parts = Math.max(1, Math.min(threads, units));
        if (parts == 1) {
            body.run(0, n);
            return;
        }
        forEach(parts, c -> {
            int from = (int) ((long) units * c / parts) * g;
            int to = Math.min(n, (int) ((long) units * (c + 1) / parts) * g);
            if (from < to) body.run(from, to);
        });
    }
}
