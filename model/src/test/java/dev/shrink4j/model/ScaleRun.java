package dev.shrink4j.model;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measured runs (not a test) for docs/model.md, on a checkpoint written by {@code shrink4j synth}:
 * <pre>
 *   forward  DIR [tokens]          forward tokens/s on 1 × tokens (all logits)
 *   stream   DIR [samples] [T]     BlockPipeline with H = XᵀX per group; peak RssAnon
 *   backward DIR [tokens]          cost of forward + backward (all output gradients) / forward
 *   selfcal  DIR [old-tokens]      self-calibration at the CLI defaults: the one-token-at-a-time path
 *                                  (Generator) timed over old-tokens tokens and extrapolated to the old
 *                                  default's 131,008 tokens, then the batched default (SelfCalibration) in full
 * </pre>
 * Run from the project root after {@code mvn -pl model -am test-compile}, e.g.
 * {@code java --add-modules jdk.incubator.vector -cp model/target/test-classes:model/target/classes:tensors/target/classes:JACKSON dev.shrink4j.model.ScaleRun forward /tmp/tl}.
 */
public final class ScaleRun {
    private ScaleRun() {}

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        Path dir = Path.of(args[1]);
        AtomicLong peak = new AtomicLong();
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peak.accumulateAndGet(rssAnonKiB(), Math::max);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.setDaemon(true);
        sampler.start();
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(dir, arena);
            ModelConfig c = model.config();
            System.out.println(c + ", threads " + Runtime.getRuntime().availableProcessors() + ", max heap "
                    + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB");
            long base = rssAnonKiB();
            switch (mode) {
                case "selfcal" -> {
                    int probe = args.length > 2 ? Integer.parseInt(args[2]) : 24;
                    long params = SelfCalibration.parameters(model);
                    Generator one = new Generator(model);
                    one.generate(new int[] {c.bosTokenId()}, 4, Sampler.of(1.0, 0.95, 0), null); // warm-up
                    long t0 = System.nanoTime();
                    int[] got = one.generate(new int[] {c.bosTokenId()}, probe, Sampler.of(1.0, 0.95, 0), null);
                    double oneRate = got.length / ((System.nanoTime() - t0) / 1e9);
                    // The old --calib self generated max(2T, samples·(T − 1)/2) tokens at 128 × min(2048, context).
                    int T = c.defaultSeqLen();
                    long oldTokens = Math.max(2L * T, 128L * (T - 1) / 2);
                    System.out.printf("before (one sequence at a time): %.2f tokens/s over %d tokens -> %,d tokens would take %.1f h (extrapolated)%n",
                            oneRate, got.length, oldTokens, oldTokens / oneRate / 3600);
                    SelfCalibration.Size size = SelfCalibration.defaults(c, params, 128, 0);
                    long t1 = System.nanoTime();
                    Calibration cal = Calibration.selfGenerated(model, size.samples(), size.seqLen(), 0, null);
                    double s = (System.nanoTime() - t1) / 1e9;
                    System.out.printf("after (batched, default %d x %d, %.2f B parameters): %.1f s, %.1f tokens/s, %,d tokens; peak RssAnon %.0f MiB%n",
                            size.samples(), size.seqLen(), params / 1e9, s, cal.record().textTokens() / s, cal.record().textTokens(),
                            (peak.get() - base) / 1024.0);
                }
                case "forward" -> {
                    int n = args.length > 2 ? Integer.parseInt(args[2]) : 512;
                    int[] tokens = TinyModels.tokens(n, c.vocabSize(), 1);
                    for (int rep = 0; rep < 2; rep++) {
                        long t0 = System.nanoTime();
                        double c0 = cpuSeconds();
                        float[] h = model.hidden(tokens, 1);
                        float[] logits = model.logits(h, 0, n);
                        double s = (System.nanoTime() - t0) / 1e9;
                        double cpu = cpuSeconds() - c0;
                        System.out.printf("forward 1x%d: %.2f s wall, %.1f tokens/s; %.1f CPU-s, %.1f tokens per CPU-second (logits %d), kernels %s%n",
                                n, s, n / s, cpu, n / cpu, logits.length, Gemm.kernels().name());
                    }
                }
                case "stream" -> {
                    int samples = args.length > 2 ? Integer.parseInt(args[2]) : 16;
                    int T = args.length > 3 ? Integer.parseInt(args[3]) : 512;
                    Calibration cal = Calibration.fromTokens(TinyModels.tokens(200_000, c.vocabSize(), 2), "random", c, samples, T, 0);
                    long t0 = System.nanoTime();
                    double c0 = cpuSeconds();
                    new BlockPipeline(model, BlockPipeline.Options.defaults()).onBlockDone(b -> System.out.printf(
                            "block %d done at %.0f s, RssAnon %d MiB, peak %d MiB%n", b, (System.nanoTime() - t0) / 1e9,
                            rssAnonKiB() >> 10, peak.get() >> 10)).run(cal, new HessianOnly());
                    double s = (System.nanoTime() - t0) / 1e9;
                    System.out.printf("stream %dx%d through %d blocks with H per group: %.1f s wall, %.1f CPU-s%n", samples, T, c.numLayers(), s,
                            cpuSeconds() - c0);
                }
                case "backward" -> {
                    int n = args.length > 2 ? Integer.parseInt(args[2]) : 512;
                    int[] tokens = TinyModels.tokens(n, c.vocabSize(), 3);
                    Backprop bp = new Backprop(model);
                    GradientObserver all = new GradientObserver() {
                        @Override
                        public boolean wantsOutputGradient(int layer, Proj proj) {
                            return true;
                        }
                    };
                    for (int rep = 0; rep < 3; rep++) {
                        double c0 = cpuSeconds();
                        bp.loss(tokens, 1);
                        double c1 = cpuSeconds();
                        bp.run(tokens, 1, all);
                        double c2 = cpuSeconds();
                        System.out.printf("forward (loss) %.1f CPU-s, forward+backward (all output gradients) %.1f CPU-s: "
                                + "backward/forward %.2f%n", c1 - c0, c2 - c1, (c2 - c1 - (c1 - c0)) / (c1 - c0));
                    }
                }
                default -> throw new IllegalArgumentException("mode " + mode);
            }
            System.out.printf("RssAnon: at start %d MiB, peak %d MiB; checkpoint %d MiB%n", base >> 10, peak.get() >> 10,
                    dirBytes(dir) >> 20);
        }
    }

    /** Accumulates H for every group and drops it at compress time, as GPTQ would. */
    static final class HessianOnly implements BlockMethod {
        final Map<Group, InputStatistics> stats = new EnumMap<>(Group.class);

        @Override
        public void observe(int layer, Group group, float[] x, int n, int dIn) {
            stats.computeIfAbsent(group, g -> new InputStatistics(dIn)).add(x, n);
        }

        @Override
        public Map<Proj, Linear> compress(int layer, Group group, Layer current, Arena blockArena) {
            stats.remove(group);
            return Map.of();
        }
    }

    static double cpuSeconds() {
        return ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
    }

    static long rssAnonKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("RssAnon:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        } catch (IOException e) {
            return 0;
        }
        return 0;
    }

    static long dirBytes(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
