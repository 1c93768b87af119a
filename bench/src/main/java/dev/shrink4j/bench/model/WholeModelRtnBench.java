package dev.shrink4j.bench.model;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.quantize.OutputFormat;
import dev.shrink4j.quantize.QuantMethod;
import dev.shrink4j.quantize.QuantizeOptions;
import dev.shrink4j.quantize.QuantizedCheckpointWriter;
import dev.shrink4j.quantize.Quantizer;
import dev.shrink4j.tensors.testing.LlamaCpp;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 * Whole-model data-free 4-bit quantization of the TinyLlama-1.1B-shaped F32 checkpoint
 * ({@code bench/tinyllama-prepare.sh}), input on disk to output on disk, same threads:
 * shrink4j's library (RTN int4, groups of 32, symmetric: the codes of Q4_0; the blocks' linears
 * streamed to a shrink4j checkpoint, embeddings and head copied F32) against llama.cpp's
 * {@code llama_model_quantize} (F32 GGUF → Q4_0; it also quantizes the embeddings to Q4_0 and the
 * head to Q6_K, so it does more arithmetic and writes less). One call is one whole run; the output is
 * removed after each call. The input's pages are in the page cache for both after the warm-up.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class WholeModelRtnBench {
    @Param({"shrink4j", "llamacpp"})
    public String engine;

    @Param({"2"})
    public int threads;

    Path dir;
    Path out;

    @Setup
    public void setup() throws IOException, InterruptedException {
        dir = DecodeBench.TinyLlamaFiles.ensure();
        System.setProperty("shrink4j.threads", Integer.toString(threads));
        out = Files.createTempDirectory(dir, ".rtn-bench-").resolve("out");
    }

    @TearDown(Level.Invocation)
    public void removeOutput() throws IOException {
        if (!Files.exists(out)) return;
        try (Stream<Path> s = Files.walk(out)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @TearDown
    public void removeTemp() throws IOException {
        Files.deleteIfExists(out.getParent());
    }

    @Benchmark
    public Object quantize() throws IOException {
        if (engine.equals("llamacpp")) {
            LlamaCpp.quantize(dir.resolve("f32.gguf"), out, LlamaCpp.FileType.Q4_0, threads);
            return out;
        }
        Path in = dir.resolve("f32");
        QuantizeOptions options = QuantizeOptions.defaults(QuantMethod.RTN, 4).withGroupSize(32).withSymmetric(true);
        try (Arena arena = Arena.ofShared();
             QuantizedCheckpointWriter w = QuantizedCheckpointWriter.open(in, OutputFormat.SHRINK4J, out, false, Map.of("method", "rtn"))) {
            LlamaModel model = LlamaModel.load(in, arena);
            new Quantizer(options, arena).writingTo(w::add).run(model, null, new Quantizer.Listener() {});
            return w.commit();
        }
    }
}
