package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --stats-cache: gradient statistics gathered once, reused at another bit-width with the same result. */
class QuantizerStatsCacheTest {
    @TempDir Path dir;

    private static boolean gradients(List<String> stages) {
        return stages.stream().anyMatch(s -> s.startsWith("gradients"));
    }

    @Test
    void secondBitWidthReusesTheCacheAndMatchesAnUncachedRun() throws IOException {
        Path cache = dir.resolve("cache");
        QuantizeOptions three = QuantizeOptions.defaults(QuantMethod.GUIDEDQUANT, 3).withLutGroup(32);
        List<String> s1 = DemoQuantizeRun.of(three, cache).stages();
        assertTrue(gradients(s1), s1.toString());
        try (Stream<Path> entries = Files.list(cache)) {
            assertEquals(1, entries.filter(p -> !p.getFileName().toString().contains(".hessians-")).count(), "one statistics entry");
        }
        QuantizeOptions four = QuantizeOptions.defaults(QuantMethod.GUIDEDQUANT, 4).withLutGroup(32);
        DemoQuantizeRun cached = DemoQuantizeRun.of(four, cache);
        List<String> s2 = cached.stages();
        assertFalse(gradients(s2), "no gradient pass with a cache hit: " + s2);
        assertTrue(s2.stream().anyMatch(s -> s.startsWith("gradient statistics from cache")), s2.toString());
        DemoQuantizeRun fresh = DemoQuantizeRun.of(four, null);
        assertTrue(gradients(fresh.stages()));
        assertEquals(null, fresh.firstDifference(cached), "differs from the uncached run");
    }
}
