package dev.shrink4j.tensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

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
}
