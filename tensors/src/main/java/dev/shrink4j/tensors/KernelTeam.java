package dev.shrink4j.tensors;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The calling thread plus {@code size - 1} helper threads that poll for work for a short while after
 * each parallel region before they park — the way OpenBLAS and ggml keep their threads. Handing a
 * region to a parked {@link java.util.concurrent.ForkJoinPool} worker costs 20–90 µs on this VM (the
 * idle vCPU has to be woken), as much as a 1024² matvec; a helper still polling picks it up in
 * ~0.2 µs. One region runs at a time: a call made while the team is busy (nested in a chunk, or from
 * another thread) is refused and {@link Parallel} runs it on its fork/join pool instead.
 */
final class KernelTeam {
    /** One parallel region: its chunks are claimed one at a time by whoever is free. */
    private static final class Job {
        final Parallel.Chunk body;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        private Throwable failure; // guarded by this

        Job(Parallel.Chunk body, int chunks) {
            this.body = body;
            this.chunks = chunks;
        }

        void work() {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    body.run(c);
                } catch (Throwable t) {
                    fail(t);
                } finally {
                    done.incrementAndGet();
                }
            }
        }

        synchronized void fail(Throwable t) {
            if (failure == null) failure = t;
            else failure.addSuppressed(t);
        }

        synchronized Throwable failure() {
            return failure;
        }
    }

    private final long pollNanos;
    private final Thread[] helpers;
    /**
     * 1 while helper i is (about to be) parked. A helper sets it, then reads {@link #current}; the
     * caller sets {@code current}, then reads it: both volatile, so one of them sees the other's write
     * and no job is left waiting for a parked helper.
     */
    private final AtomicIntegerArray parked;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile Job current;

    KernelTeam(int size, long pollNanos) {
        this.pollNanos = pollNanos;
        this.helpers = new Thread[Math.max(0, size - 1)];
        this.parked = new AtomicIntegerArray(helpers.length);
        for (int i = 0; i < helpers.length; i++) {
            int id = i;
            Thread t = new Thread(() -> helperLoop(id), "shrink4j-kernel-" + (i + 1));
            t.setDaemon(true);
            helpers[i] = t;
        }
        for (Thread t : helpers) t.start();
    }

    /**
     * Runs {@code body.run(c)} for c in [0, chunks) on this thread and the helpers, or returns false
     * at once (running nothing) when the team is busy with another region.
     */
    boolean tryRun(int chunks, Parallel.Chunk body) {
        if (!busy.compareAndSet(false, true)) {
            return false;
        }
        try {
            Job job = new Job(body, chunks);
            current = job;
            for (int i = 0; i < helpers.length; i++) {
                if (parked.get(i) != 0) LockSupport.unpark(helpers[i]);
            }
            job.work();
            awaitDone(job);
            Throwable failure = job.failure();
            if (failure instanceof RuntimeException re) throw re;
            if (failure instanceof Error er) throw er;
            if (failure != null) throw new IllegalStateException(failure);
            return true;
        } finally {
            busy.set(false);
        }
    }

    /** Waits for chunks still running on helpers: poll briefly, then yield the core to them. */
    private static void awaitDone(Job job) {
        for (int spins = 0; job.done.get() < job.chunks; spins++) {
            if (spins < 1 << 12) Thread.onSpinWait();
            else Thread.yield();
        }
    }

    private void helperLoop(int id) {
        Job seen = null;
        while (true) {
            Job job = awaitJob(id, seen);
            seen = job;
            job.work();
        }
    }

    /** Polls for a job other than {@code seen} for {@link #pollNanos}, then parks until one is published. */
    private Job awaitJob(int id, Job seen) {
        long deadline = System.nanoTime() + pollNanos;
        while (true) {
            Job job = current;
            if (job != seen) return job;
            if (System.nanoTime() - deadline < 0) {
                Thread.onSpinWait();
                continue;
            }
            parked.set(id, 1);
            if (current == seen) LockSupport.park(this); // an unpark that came first makes this return at once
            parked.set(id, 0);
            deadline = System.nanoTime() + pollNanos;
        }
    }
}
