package dev.shrink4j.bench.model;

import dev.shrink4j.model.Generator;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Sampler;
import dev.shrink4j.tensors.formats.ActivationPrecision;
import dev.shrink4j.tensors.testing.LlamaCpp;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * End-to-end greedy generation on a TinyLlama-1.1B-shaped synthetic checkpoint
 * ({@code bench/tinyllama-prepare.sh}): shrink4j's library runtime ({@link Generator}: batched
 * prefill, KV cache) against llama.cpp's libraries through FFM ({@code LlamaCpp.timedGreedy}: the
 * prompt as one {@code llama_decode}, then one decode per token), same weights, same threads. One call
 * is one generation: a prompt of {@code prompt} token ids (BOS, then fixed ids), then
 * {@code generate} new tokens, the first from the prefill's logits. Counters: prefill nanos and
 * prompt tokens; decode nanos and decode steps (generate − 1), so rows read ms per prompt token and
 * ms per generated token.
 *
 * <p>weights: {@code q4} = RTN int4 g32 symmetric (ours: the shrink4j checkpoint; llama.cpp: the same
 * codes and F16 scales as Q4_0), embeddings and head F32 on both; {@code f32} = the dense F32
 * checkpoint; {@code q4.gguf} (shrink4j only) = the Q4_0 file read in place ({@code GgufCheckpoint}: the
 * ggml block kernels, F32 activations); {@code q4h8} = q4 with the output head quantized too
 * ({@code --head-bits 8}: int8 symmetric g32, Q8_0 on llama.cpp's side, same codes), embeddings F32;
 * {@code q4h4} the same with an int4 g32 head (Q4_0); {@code q4km} (llama.cpp) / {@code q4km.gguf} (shrink4j,
 * in place: the K-quant kernels, F32 activations) = llama.cpp's own Q4_K_M of f32.gguf.
 * {@code activations} applies to our q4 side: int8 (blocks of 32, as llama.cpp's Q8_0
 * activations for Q4_0 weights) or f32.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx6g"})
public class DecodeBench {
    @Param({"shrink4j", "llamacpp"})
    public String engine;

    @Param({"q4", "f32", "q4km", "q4km.gguf"})
    public String weights;

    @Param({"int8"})
    public String activations;

    @Param({"2"})
    public int threads;

    @Param({"16"})
    public int prompt;

    @Param({"128"})
    public int generate;

    Arena arena;
    LlamaModel model;
    LlamaCpp llama;
    int[] ids;

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Times {
        public long prefillNanos;
        public long promptTokens;
        public long decodeNanos;
        public long decodeSteps;

        @Setup(Level.Iteration)
        public void reset() {
            prefillNanos = 0;
            promptTokens = 0;
            decodeNanos = 0;
            decodeSteps = 0;
        }
    }

    @Setup
    public void setup() throws IOException, InterruptedException {
        Path dir = TinyLlamaFiles.ensure("q4.gguf", "f32.gguf",
                engine.equals("llamacpp") && !weights.endsWith(".gguf") ? weights + ".gguf" : weights);
        ids = new int[prompt];
        ids[0] = 1;
        for (int i = 1; i < prompt; i++) ids[i] = 100 + (i * 7919) % 30000; // fixed ids inside the 32000 vocabulary
        if (engine.equals("llamacpp")) {
            llama = new LlamaCpp(dir.resolve(weights + ".gguf"), prompt + generate, threads);
        } else {
            System.setProperty("shrink4j.threads", Integer.toString(threads));
            arena = Arena.ofShared();
            model = LlamaModel.load(dir.resolve(weights), arena);
            ActivationPrecision p = ActivationPrecision.parse(activations);
            if (p == null) throw new IllegalArgumentException("activations must be f32 or int8, got " + activations);
            model.setActivations(p);
        }
    }

    @TearDown
    public void tearDown() {
        if (llama != null) llama.close();
        if (arena != null) arena.close();
    }

    @Benchmark
    public int generate(Times t) {
        if (llama != null) {
            LlamaCpp.Timed r = llama.timedGreedy(ids, generate);
            t.prefillNanos += r.prefillNanos();
            t.decodeNanos += r.decodeNanos();
            t.promptTokens += prompt;
            t.decodeSteps += generate - 1;
            return r.tokens()[generate - 1];
        }
        long[] first = {0};
        long t0 = System.nanoTime();
        int[] out = new Generator(model).generate(ids, generate, Sampler.greedy(), tok -> {
            if (first[0] == 0) first[0] = System.nanoTime();
        });
        long t2 = System.nanoTime();
        t.prefillNanos += first[0] - t0;
        t.promptTokens += prompt;
        t.decodeNanos += t2 - first[0];
        t.decodeSteps += Math.max(0, out.length - 1); // fewer if EOS came first
        return out.length;
    }

    /** Where {@code bench/tinyllama-prepare.sh} leaves the files; runs it when they are missing. */
    static final class TinyLlamaFiles {
        static Path ensure() throws IOException, InterruptedException {
            return ensure("q4.gguf", "f32.gguf");
        }

        /** The directory, once every one of {@code files} is in it (a file or a checkpoint directory; the script skips what exists). */
        static Path ensure(String... files) throws IOException, InterruptedException {
            Path dir = Path.of(System.getProperty("shrink4j.bench.tinyllama", "/tmp/shrink4j-bench/tinyllama"));
            if (java.util.Arrays.stream(files).allMatch(f -> Files.exists(dir.resolve(f)))) return dir;
            Path script = Path.of("bench", "tinyllama-prepare.sh").toAbsolutePath();
            if (!Files.isRegularFile(script)) throw new IllegalStateException("run bench/tinyllama-prepare.sh first (from the project root)");
            Process p = new ProcessBuilder(script.toString(), dir.toString()).inheritIO().start();
            if (p.waitFor() != 0) throw new IllegalStateException(script + " failed");
            return dir;
        }
    }
}
