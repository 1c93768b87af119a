package dev.shrink4j.tensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ParallelTest {
    @Test
    void forRangeCoversEveryIndexOnceOnGrainBoundaries() {
        for (int n : new int[] {1, 7, 64, 1000, 1001}) {
            for (int threads : new int[] {1, 2, 3, 8}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                Parallel.forRange(n, 16, threads, (from, to) -> {
                    assertTrue(from % 16 == 0, "range start " + from + " off grain");
                    for (int i = from; i < to; i++) hits.incrementAndGet(i);
                });
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "n=" + n + " threads=" + threads + " i=" + i);
            }
        }
    }

    @Test
    void nestedCallsComplete() {
        AtomicIntegerArray hits = new AtomicIntegerArray(16);
        Parallel.forEach(4, outer -> Parallel.forEach(4, inner -> hits.incrementAndGet(outer * 4 + inner)));
        for (int i = 0; i < 16; i++) assertEquals(1, hits.get(i));
    }

    @Test
    void confinedMemoryIsNotShareable() {
        try (java.lang.foreign.Arena confined = java.lang.foreign.Arena.ofConfined();
             java.lang.foreign.Arena shared = java.lang.foreign.Arena.ofShared()) {
            assertEquals(false, Parallel.shareable(confined.allocate(16)));
            assertEquals(true, Parallel.shareable(shared.allocate(16)));
            assertEquals(true, Parallel.shareable(java.lang.foreign.MemorySegment.ofArray(new float[4])));
        }
    }

    @Test
    void failuresReachTheCaller() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Parallel.forEach(3, c -> { if (c == 2) throw new IllegalStateException("chunk 2"); }));
        assertEquals("chunk 2", e.getMessage());
        assertTrue(Parallel.threads() >= 1);
    }

    /**
     * Regions back to back and with pauses longer than the helpers' polling time, so they are handed
     * over both to polling and to parked helpers: every chunk runs exactly once and no region waits
     * for a wake-up that never comes (that would hang until the timeout).
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void regionsReachPollingAndParkedHelpers() {
        AtomicIntegerArray hits = new AtomicIntegerArray(5);
        int regions = 600;
        for (int r = 0; r < regions; r++) {
            Parallel.forEach(5, hits::incrementAndGet);
            if (r % 3 == 0) LockSupport.parkNanos(300_000); // longer than the default 100 µs of polling
        }
        for (int i = 0; i < 5; i++) assertEquals(regions, hits.get(i), "chunk " + i);
    }

    /** Several application threads at once: one holds the team, the others fall back to fork/join. */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void concurrentCallersEachCompleteTheirRegions() throws InterruptedException {
        int callers = 4, regions = 300, chunks = 3;
        AtomicIntegerArray hits = new AtomicIntegerArray(callers * chunks);
        Thread[] threads = new Thread[callers];
        Throwable[] failures = new Throwable[callers];
        for (int k = 0; k < callers; k++) {
            int caller = k;
            threads[k] = new Thread(() -> {
                try {
                    for (int r = 0; r < regions; r++) Parallel.forEach(chunks, c -> hits.incrementAndGet(caller * chunks + c));
                } catch (Throwable t) {
                    failures[caller] = t;
                }
            });
            threads[k].start();
        }
        for (Thread t : threads) t.join();
        for (Throwable f : failures) assertEquals(null, f);
        for (int i = 0; i < callers * chunks; i++) assertEquals(regions, hits.get(i), "caller " + i / chunks + " chunk " + i % chunks);
    }

    @Test
    void failureInAHelperChunkLeavesTheTeamUsable() {
        for (int round = 0; round < 3; round++) {
            assertThrows(IllegalArgumentException.class, () -> Parallel.forEach(4, c -> { if (c == 3) throw new IllegalArgumentException("x"); }));
            AtomicIntegerArray hits = new AtomicIntegerArray(4);
            Parallel.forEach(4, hits::incrementAndGet);
            for (int i = 0; i < 4; i++) assertEquals(1, hits.get(i));
        }
    }
}
