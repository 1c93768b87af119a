package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Generator;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Sampler;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One loaded model serving many requests at once, as in an inference server: the demo model dense and
 * written in four compressed formats (uniform 4-bit, 2:4, CSR, low-rank), each loaded once and shared;
 * 8 platform threads and then 16 virtual threads each decode greedily from their own prompts with their
 * own KV caches (a {@link Generator} per request), and every request must give exactly the tokens it
 * gives when run alone. The tokenizer is shared too.
 */
class ConcurrentServingTest {
    private static final int TOKENS = 16;
    private static final int PER_THREAD = 2;
    private static final String[] PROMPTS = {"Once upon a time", "The little dog", "Lily and Tom went", "One day, a bird",
            "The sun was", "Mom said", "In the park there", "A big red ball"};

    @TempDir
    static Path dir;
    static final Map<String, Path> MODELS = new LinkedHashMap<>();

    @BeforeAll
    static void writeModels() {
        Path demo = TestData.demoModel();
        MODELS.put("dense", demo);
        String[][] commands = {
                {"uniform", "quantize", "--method", "rtn", "--bits", "4", "--group-size", "32"},
                {"nm", "prune", "--method", "magnitude", "--sparsity", "0.5", "--pattern", "2:4"},
                {"csr", "prune", "--method", "magnitude", "--sparsity", "0.6"},
                {"low_rank", "lowrank", "--method", "svd", "--params-ratio", "0.6"},
        };
        for (String[] c : commands) {
            Path out = dir.resolve(c[0]);
            List<String> a = new ArrayList<>(Arrays.asList(c).subList(1, c.length));
            a.addAll(List.of("--no-eval", "--quiet", demo.toString(), out.toString()));
            CliRunner r = CliRunner.run(a.toArray(String[]::new));
            assertEquals(0, r.status(), c[0] + ": " + r.err());
            MODELS.put(c[0], out);
        }
    }

    @Test
    void everyFormatServesConcurrentRequestsWithTheTokensOfSequentialOnes() throws Exception {
        int requests = 0;
        for (Map.Entry<String, Path> m : MODELS.entrySet()) {
            try (Arena arena = Arena.ofShared()) {
                LlamaModel model = LlamaModel.load(m.getValue(), arena);
                Tokenizer tok = Tokenizer.load(m.getValue(), model.config());
                int[][] expected = new int[PROMPTS.length][];
                for (int p = 0; p < PROMPTS.length; p++) expected[p] = request(model, tok, p);
                assertTrue(Arrays.stream(expected).allMatch(e -> e.length > 0), m.getKey());
                requests += serve(m.getKey(), model, tok, expected, Executors.newFixedThreadPool(8), 8);
                requests += serve(m.getKey(), model, tok, expected, Executors.newVirtualThreadPerTaskExecutor(), 16);
            }
        }
        assertEquals(MODELS.size() * (8 + 16) * PER_THREAD, requests);
    }

    /** {@code callers} threads, PER_THREAD requests each (prompts in a different order per thread); returns the requests served. */
    private static int serve(String name, LlamaModel model, Tokenizer tok, int[][] expected, ExecutorService pool, int callers) throws Exception {
        AtomicInteger served = new AtomicInteger();
        List<String> mismatches = java.util.Collections.synchronizedList(new ArrayList<>());
        try (pool) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < callers; t++) {
                int id = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < PER_THREAD; i++) {
                        int p = (id * PER_THREAD + i) % PROMPTS.length;
                        int[] got = request(model, tok, p);
                        if (!Arrays.equals(got, expected[p])) mismatches.add(PROMPTS[p] + " on thread " + id);
                        served.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) f.get();
        }
        assertEquals(List.of(), mismatches, name + ", " + callers + " callers");
        return served.get();
    }

    private static int[] request(LlamaModel model, Tokenizer tok, int prompt) {
        int[] ids = tok.encode(PROMPTS[prompt], true);
        int[] out = new Generator(model).generate(ids, TOKENS, Sampler.greedy(), null);
        assertArrayEquals(tok.encode(PROMPTS[prompt], true), ids, "the prompt was not modified");
        return out;
    }
}
