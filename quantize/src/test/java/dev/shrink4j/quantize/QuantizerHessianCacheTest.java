package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.model.testing.CountingLinear;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --stats-cache with the dense-propagation methods: the first run stores every block's Hessians, a run at
 * another bit-width reads them, runs no forward over the blocks and writes the same bytes as an uncached run.
 */
class QuantizerHessianCacheTest {
    private static final String TEXT = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big red ball. She ran to get it, but a dog got it first. Lily was sad. ";

    @TempDir Path dir;

    /** A run's stored tensors (copied out of its arena), its stages, and the block forwards it ran. */
    private record Run(Map<String, byte[]> tensors, List<String> stages, int forwards) {}

    private static Run run(QuantizeOptions o, Path cache) {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            AtomicInteger forwards = new AtomicInteger();
            for (int l = 0; l < model.numLayers(); l++) {
                for (Proj p : Proj.values()) {
                    Linear lin = model.layer(l).linear(p);
                    if (lin != null) model.setLayer(model.layer(l).with(p, new CountingLinear(lin, forwards)));
                }
            }
            Tokenizer tok = Tokenizer.load(TestData.demoModel(), model.config());
            Calibration calib = Calibration.fromTokens(tok.encode(TEXT.repeat(8), false), "test", model.config(), 4, 64, 1);
            Quantizer q = new Quantizer(o, arena);
            if (cache != null) q.withStatisticsCache(cache);
            List<String> stages = new ArrayList<>();
            Quantizer.Result r = q.run(model, calib, new Quantizer.Listener() {
                @Override
                public void stage(String name, int total) {
                    stages.add(name);
                }
            });
            Map<String, byte[]> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, CompressedWeight> e : r.weights().entrySet()) {
                e.getValue().toTensors(e.getKey()).forEach((name, t) -> tensors.put(name, t.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
            }
            return new Run(tensors, stages, forwards.get());
        }
    }

    private void secondBitWidthRunsNoForwardAndMatchesAnUncachedRun(QuantMethod method, String kind) throws IOException {
        Path cache = dir.resolve("cache-" + method.cliName());
        Run cold = run(QuantizeOptions.defaults(method, 3), cache);
        assertTrue(cold.forwards() > 0);
        assertTrue(cold.stages().stream().anyMatch(s -> s.startsWith("Hessians to cache ") && s.contains("0/5 blocks cached")), cold.stages().toString());
        Path hessians;
        try (Stream<Path> entries = Files.list(cache)) {
            hessians = entries.filter(p -> p.getFileName().toString().contains(".hessians-" + kind + "-v")).findFirst().orElseThrow();
        }
        try (Stream<Path> blocks = Files.list(hessians)) {
            assertEquals(5, blocks.filter(p -> Files.isRegularFile(p.resolve("model.safetensors"))).count());
        }

        Run warm = run(QuantizeOptions.defaults(method, 4), cache);
        assertEquals(0, warm.forwards(), "neither the gradient pass nor any block forward runs: " + warm.stages());
        assertTrue(warm.stages().stream().anyMatch(s -> s.startsWith("Hessians from cache ") && s.contains("(5 blocks, ")), warm.stages().toString());

        Run fresh = run(QuantizeOptions.defaults(method, 4), null);
        assertTrue(fresh.forwards() > 0);
        assertEquals(fresh.tensors().keySet(), warm.tensors().keySet());
        for (String name : fresh.tensors().keySet()) {
            byte[] a = fresh.tensors().get(name), b = warm.tensors().get(name);
            assertEquals(-1, java.util.Arrays.mismatch(a, b), name + " differs from the uncached run");
        }
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
        Run lnq = run(QuantizeOptions.defaults(QuantMethod.LNQ, 3), cache);
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
