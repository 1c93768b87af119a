package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Tokenizer;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --stats-cache: gradient statistics gathered once, reused at another bit-width with the same result. */
class QuantizerStatsCacheTest {
    private static final String TEXT = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big red ball. She ran to get it, but a dog got it first. Lily was sad. ";

    @TempDir Path dir;

    /** Dequantized weights by module, and the stages the run announced. */
    private static Map<String, float[]> run(QuantizeOptions o, Path cache, List<String> stages) {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            Tokenizer tok = Tokenizer.load(TestData.demoModel(), model.config());
            Calibration calib = Calibration.fromTokens(tok.encode(TEXT.repeat(8), false), "test", model.config(), 4, 64, 1);
            Quantizer q = new Quantizer(o, arena);
            if (cache != null) q.withStatisticsCache(cache);
            Quantizer.Result r = q.run(model, calib, new Quantizer.Listener() {
                @Override
                public void stage(String name, int total) {
                    stages.add(name);
                }
            });
            Map<String, float[]> out = new LinkedHashMap<>();
            for (Map.Entry<String, CompressedWeight> e : r.weights().entrySet()) {
                CompressedWeight w = e.getValue();
                float[] all = new float[w.dOut() * w.dIn()];
                float[] row = new float[w.dIn()];
                for (int j = 0; j < w.dOut(); j++) {
                    w.dequantizeRow(j, row, 0);
                    System.arraycopy(row, 0, all, j * w.dIn(), w.dIn());
                }
                out.put(e.getKey(), all);
            }
            return out;
        }
    }

    private static boolean gradients(List<String> stages) {
        return stages.stream().anyMatch(s -> s.startsWith("gradients"));
    }

    @Test
    void secondBitWidthReusesTheCacheAndMatchesAnUncachedRun() throws IOException {
        Path cache = dir.resolve("cache");
        QuantizeOptions three = QuantizeOptions.defaults(QuantMethod.GUIDEDQUANT, 3).withLutGroup(32);
        List<String> s1 = new ArrayList<>();
        run(three, cache, s1);
        assertTrue(gradients(s1), s1.toString());
        try (Stream<Path> entries = Files.list(cache)) {
            assertEquals(1, entries.filter(p -> !p.getFileName().toString().contains(".hessians-")).count(), "one statistics entry");
        }
        QuantizeOptions four = QuantizeOptions.defaults(QuantMethod.GUIDEDQUANT, 4).withLutGroup(32);
        List<String> s2 = new ArrayList<>(), s3 = new ArrayList<>();
        Map<String, float[]> cached = run(four, cache, s2);
        assertFalse(gradients(s2), "no gradient pass with a cache hit: " + s2);
        assertTrue(s2.stream().anyMatch(s -> s.startsWith("gradient statistics from cache")), s2.toString());
        Map<String, float[]> fresh = run(four, null, s3);
        assertTrue(gradients(s3));
        assertEquals(fresh.keySet(), cached.keySet());
        for (String k : fresh.keySet()) assertArrayEquals(fresh.get(k), cached.get(k), k);
    }
}
