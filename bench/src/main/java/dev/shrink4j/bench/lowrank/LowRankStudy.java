package dev.shrink4j.bench.lowrank;

import dev.shrink4j.lowrank.CheckpointLowRank;
import dev.shrink4j.lowrank.LowRankCompressor;
import dev.shrink4j.lowrank.LowRankFormat;
import dev.shrink4j.lowrank.LowRankMethod;
import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Tokenizer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The low-rank comparison of docs/lowrank.md: every method × parameter ratio on one model, one
 * calibration set, the same evaluation windows (docs/methods/evaluation.md §1), ΔNLL and KL against the dense model.
 * One JVM, so calibration text, reference scores and JIT warm-up are shared across rows.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.shrink4j.bench.lowrank.LowRankStudy MODEL CALIB.txt EVAL.txt [EVAL2.txt ...]
 *   -Dsamples=32 -Dseq=256 -Dwindows=40 -Dratios=0.5,0.75 -Dmethods=svd,whitened-svd,asvd,lost,lost-whitened
 * </pre>
 */
public final class LowRankStudy {
    private LowRankStudy() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: LowRankStudy MODEL CALIB.txt EVAL.txt [EVAL2.txt ...]");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Path calib = Path.of(args[1]);
        List<Path> evals = Arrays.stream(args, 2, args.length).map(Path::of).toList();
        int samples = Integer.getInteger("samples", 32);
        int seq = Integer.getInteger("seq", 256);
        int windows = Integer.getInteger("windows", 40);
        double[] ratios = Arrays.stream(System.getProperty("ratios", "0.5,0.75").split(",")).mapToDouble(Double::parseDouble).toArray();
        List<LowRankMethod> methods = Arrays.stream(System.getProperty("methods", "svd,whitened-svd,asvd,lost,lost-whitened").split(","))
                .map(LowRankMethod::parse).toList();
        Path tmp = Files.createTempDirectory("lowrank-study");
        try (Arena arena = Arena.ofShared()) {
            LlamaModel reference = LlamaModel.load(dir, arena);
            Tokenizer tok = Tokenizer.load(dir, reference.config());
            Calibration cal = Calibration.fromFile(calib, tok, reference.config(), samples, seq, 0);
            List<int[]> streams = new ArrayList<>();
            StringBuilder head = new StringBuilder("| method | P | achieved |");
            StringBuilder rule = new StringBuilder("|---|---|---|");
            for (Path e : evals) {
                int[] s = tok.encode(Files.readString(e, StandardCharsets.UTF_8), false);
                streams.add(s);
                Perplexity.Result base = Perplexity.evaluate(reference, s, seq, windows, null);
                System.out.printf("# %s: dense NLL %.4f (ppl %.3f), %d windows x %d, %d tokens%n",
                        e.getFileName(), base.nll(), base.ppl(), base.windows(), seq, base.tokens());
                head.append(" ΔNLL ").append(e.getFileName()).append(" | KL ").append(e.getFileName()).append(" |");
                rule.append("---|---|");
            }
            System.out.printf("# calibration: %s, %d x %d tokens, seed 0%n", calib.getFileName(), samples, seq);
            System.out.println(head + " mean weight err | mean output err | seconds |");
            System.out.println(rule + "---|---|---|");
            List<Double> baseNll = new ArrayList<>();
            for (int[] s : streams) baseNll.add(Perplexity.evaluate(reference, s, seq, windows, null).nll());
            for (double p : ratios) {
                for (LowRankMethod m : methods) {
                    LlamaModel model = LlamaModel.load(dir, arena);
                    double[] sums = new double[3];
                    long t0 = System.nanoTime();
                    CheckpointLowRank.Summary sum = new CheckpointLowRank(new LowRankCompressor(LowRankCompressor.Settings.defaults(m, p)))
                            .run(model, dir, tmp.resolve(m.cliName() + "-" + p), new CheckpointLowRank.Options(LowRankFormat.DENSE, true, null, Map.of()),
                                    m.needsCalibration() ? cal : null, new CheckpointLowRank.Listener() {
                                        @Override
                                        public void linear(CheckpointLowRank.LinearRow r) {
                                            sums[0] += r.weightError();
                                            sums[1] += Double.isNaN(r.outputError()) ? 0 : r.outputError();
                                            sums[2]++;
                                        }
                                    });
                    double secs = (System.nanoTime() - t0) / 1e9;
                    StringBuilder row = new StringBuilder(String.format("| %s | %.2f | %.4f |", m.cliName(), p, sum.ratio()));
                    for (int i = 0; i < streams.size(); i++) {
                        Perplexity.Result r = Perplexity.evaluate(model, streams.get(i), seq, windows, reference);
                        row.append(String.format(" %+.4f | %.4f |", r.nll() - baseNll.get(i), r.kl()));
                    }
                    row.append(String.format(" %.4f | %s | %.1f |", sums[0] / sums[2],
                            m.needsGram() ? String.format("%.4f", sums[1] / sums[2]) : "–", secs));
                    System.out.println(row);
                }
            }
        }
    }
}
