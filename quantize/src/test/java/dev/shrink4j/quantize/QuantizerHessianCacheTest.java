package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --stats-cache with the dense-propagation methods: the first run stores every block's Hessians, a run at
 * another bit-width reads them, runs no forward over the blocks and writes the same bytes as an uncached run.
 */
class QuantizerHessianCacheTest {
    @TempDir Path dir;

    private static DemoQuantizeRun run(QuantizeOptions o, Path cache) {
        return DemoQuantizeRun.of(o, cache);
    }

    private void secondBitWidthRunsNoForwardAndMatchesAnUncachedRun(QuantMethod method, String kind) throws IOException {
        Path cache = dir.resolve("cache-" + method.cliName());
        DemoQuantizeRun cold = run(QuantizeOptions.defaults(method, 3), cache);
        assertTrue(cold.forwards() > 0);
        assertTrue(cold.stages().stream().anyMatch(s -> s.startsWith("Hessians to cache ") && s.contains("0/5 blocks cached")), cold.stages().toString());
        Path hessians;
        try (Stream<Path> entries = Files.list(cache)) {
            hessians = entries.filter(p -> p.getFileName().toString().contains(".hessians-" + kind + "-v")).findFirst().orElseThrow();
        }
        try (Stream<Path> blocks = Files.list(hessians)) {
            assertEquals(5, blocks.filter(p -> Files.isRegularFile(p.resolve("model.safetensors"))).count());
        }

        DemoQuantizeRun warm = run(QuantizeOptions.defaults(method, 4), cache);
        assertEquals(0, warm.forwards(), "neither the gradient pass nor any block forward runs: " + warm.stages());
        assertTrue(warm.stages().stream().anyMatch(s -> s.startsWith("Hessians from cache ") && s.contains("(5 blocks, ")), warm.stages().toString());

        DemoQuantizeRun fresh = run(QuantizeOptions.defaults(method, 4), null);
        assertTrue(fresh.forwards() > 0);
        assertEquals(null, fresh.firstDifference(warm), "differs from the uncached run");
    }

    @Test
    void lnqReusesPlainHessians() throws IOException {
        secondBitWidthRunsNoForwardAndMatchesAnUncachedRun(QuantMethod.LNQ, "plain");
    }

    @Test
    void guidedQuantReusesGuidedHessians() throws IOException {
        secondBitWidthRunsNoForwardAndMatchesAnUncachedRun(QuantMethod.GUIDEDQUANT, "guided");
    }

    @Test
    void squeezeLlmFillsThePlainHessiansThatLnqReads() {
        Path cache = dir.resolve("shared");
        run(QuantizeOptions.defaults(QuantMethod.SQUEEZELLM, 3), cache);
        DemoQuantizeRun lnq = run(QuantizeOptions.defaults(QuantMethod.LNQ, 3), cache);
        assertEquals(0, lnq.forwards(), lnq.stages().toString());
    }

    @Test
    void storedUpperTriangleReadsBackAsTheSameSymmetricMatrix() {
        HessianCache c = HessianCache.of(dir, "k", false, 2048);
        int d = 5;
        double[] h = new double[d * d];
        java.util.SplittableRandom r = new java.util.SplittableRandom(7);
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) h[i * d + j] = h[j * d + i] = r.nextDouble() - 0.5;
        }
        try (HessianCache.BlockWriter w = c.writer(3)) {
            w.add("h.x", h, d);
            w.commit();
        }
        assertTrue(c.has(3));
        assertEquals(false, c.has(2));
        org.junit.jupiter.api.Assertions.assertArrayEquals(h, c.read(3, "h.x", d));
    }
}
