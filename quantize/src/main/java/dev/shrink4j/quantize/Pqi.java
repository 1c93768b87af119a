package dev.shrink4j.quantize;

import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.ShrinkException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Post-quantization integral (docs/methods/pqi-requant.md §1–§2): for every weight i of the
 * decoder linears, PQI_i = (W̃_i − W_i)·∫₀¹ ∂_iF(W + t(W̃ − W)) dt, with Σ_i PQI_i = ΔF = F(W̃) − F(W),
 * discretised as (W̃_i − W_i)·(1/N)·Σ_k ḡ_i(t_k). F is the calibration loss (token-mean cross-entropy,
 * every sequence the same length); ḡ(t) is its gradient, one forward + backward per sequence with every
 * linear at W(t) at once ({@link PathLinear}: W(t) is never formed, so no second model copy exists).
 *
 * <p>Lifecycle: {@code new Pqi(original, quantized, options)} → {@link #run} (one gradient pass per
 * distinct path point of every requested rule, so N = 1, 2, 4, 8, 16 with left end points cost 16
 * passes, not 31) → {@link Result} (Σ PQI per rule, ΔF measured, first-order Taylor) and
 * {@link #scores} (per-weight PQI of {@link Options#points} by {@link Options#rule}) → {@link #close}.
 */
public final class Pqi implements AutoCloseable {
    /** Where the gradient is evaluated on each of the N intervals (docs/methods/pqi-requant.md §2). */
    public enum Rule {
        /** t_k = k/N: a first-order Taylor step per interval; O(1/N). The paper's rule and the default. */
        LEFT,
        /** t_k = (k + ½)/N: O(1/N²) (an extension; exact at N = 1 for a quadratic F). */
        MIDPOINT;

        public double point(int k, int n) {
            return this == LEFT ? (double) k / n : (k + 0.5) / n;
        }

        public String cliName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One discretisation: N intervals, evaluated by {@code rule}. */
    public record Scheme(int points, Rule rule) {
        public Scheme {
            if (points < 1) throw new ShrinkException("PQI needs at least one path point, got " + points);
        }

        double[] ts() {
            double[] t = new double[points];
            for (int k = 0; k < points; k++) t[k] = rule.point(k, points);
            return t;
        }
    }

    /**
     * @param scores     the scheme whose per-weight PQI {@link #scores} keeps (docs/methods/pqi-requant.md §2 CPU default: N = 8, left)
     * @param also       further schemes whose Σ PQI is reported (the accuracy table); their points share passes
     * @param scratchDir where the two weight-shaped F32 accumulators are memory-mapped; null: anonymous off-heap memory
     */
    public record Options(Scheme scores, List<Scheme> also, Path scratchDir) {
        public Options {
            also = List.copyOf(also);
        }

        public static Options of(int points, Rule rule) {
            return new Options(new Scheme(points, rule), List.of(), null);
        }

        public Options alsoReporting(List<Scheme> schemes) {
            return new Options(scores, schemes, scratchDir);
        }

        public Options withScratchDir(Path dir) {
            return new Options(scores, also, dir);
        }
    }

    /**
     * What a run measured.
     *
     * @param lossOriginal  F(W) on the calibration sequences
     * @param lossQuantized F(W̃)
     * @param ts            the distinct path points evaluated, ascending
     * @param dots          ḡ(t)ᵀ(W̃ − W) at each point of {@code ts}, summed over all linears
     * @param moduleDots    module name → the same per point, for that linear alone
     * @param losses        F(W(t)) at each point
     */
    public record Result(double lossOriginal, double lossQuantized, double[] ts, double[] dots, Map<String, double[]> moduleDots,
                         double[] losses) {
        /** ΔF = F(W̃) − F(W), measured by two forward passes (docs/methods/pqi-requant.md §2, the built-in check). */
        public double deltaF() {
            return lossQuantized - lossOriginal;
        }

        /** The first-order Taylor prediction gᵀ(W̃ − W) at t = 0 (docs/methods/pqi-requant.md §1); NaN when t = 0 was not evaluated. */
        public double taylor() {
            int i = Arrays.binarySearch(ts, 0.0);
            return i >= 0 ? dots[i] : Double.NaN;
        }

        /** Σ PQI under {@code s}: (1/N)·Σ_k ḡ(t_k)ᵀ(W̃ − W). */
        public double sum(Scheme s) {
            return mean(dots, s);
        }

        /** Σ PQI of one module under {@code s}. */
        public double moduleSum(String module, Scheme s) {
            return mean(moduleDots.get(module), s);
        }

        /** |Σ PQI − ΔF| / |ΔF|. */
        public double relativeError(Scheme s) {
            return Math.abs(sum(s) - deltaF()) / Math.abs(deltaF());
        }

        private double mean(double[] v, Scheme s) {
            double acc = 0;
            for (double t : s.ts()) {
                int i = Arrays.binarySearch(ts, t);
                if (i < 0) throw new IllegalArgumentException("t = " + t + " of " + s + " was not evaluated");
                acc += v[i];
            }
            return acc / s.points();
        }
    }

    /**
     * The loss along W(t) = W + t·(W̃ − W) over a set of named weight tensors: what the integrator needs,
     * apart from how gradients are computed (the model's backward pass, or a closed form in tests).
     */
    interface LossPath {
        /** Tensor name → number of weights, in a fixed order. */
        Map<String, Long> sizes();

        /** F(W(t)); hands ḡ(t) of every tensor to {@code gradient} (arrays valid during the call) when non-null. */
        double loss(double t, java.util.function.BiConsumer<String, float[]> gradient);

        /** W̃ − W of one tensor. */
        float[] delta(String name);
    }

    private final LossPath path;
    private final Options options;
    private final Map<String, Long> sizes;
    private WeightScratch gradient; // ḡ(t), one point at a time
    private WeightScratch scores; // Σ_k (W̃ − W) ⊙ ḡ(t_k) / N

    /**
     * @param original  the model before quantization (W)
     * @param quantized the same architecture with quantized decoder linears (W̃); its other tensors are not used
     */
    public Pqi(LlamaModel original, LlamaModel quantized, Options options, int[][] sequences, Quantizer.Listener listener) {
        this(new ModelPath(original, quantized, sequences, listener), options);
    }

    Pqi(LossPath path, Options options) {
        this.path = path;
        this.options = options;
        this.sizes = path.sizes();
    }

    /** The shapes and names W̃ must share with W, checked before any pass: one line naming the first mismatch. */
    public static void checkCompatible(LlamaModel original, LlamaModel quantized) {
        if (original.numLayers() != quantized.numLayers()) {
            throw new ShrinkException("the quantized model has " + quantized.numLayers() + " decoder blocks, the original " + original.numLayers());
        }
        if (original.config().hiddenSize() != quantized.config().hiddenSize() || original.config().vocabSize() != quantized.config().vocabSize()) {
            throw new ShrinkException("the quantized model's hidden size/vocabulary (" + quantized.config().hiddenSize() + "/" + quantized.config().vocabSize()
                    + ") differ from the original's (" + original.config().hiddenSize() + "/" + original.config().vocabSize() + ")");
        }
        for (int l = 0; l < original.numLayers(); l++) {
            for (Proj p : Proj.values()) {
                Linear a = original.layer(l).linear(p), b = quantized.layer(l).linear(p);
                if (a == null && b == null) continue;
                if (a == null || b == null) {
                    throw new ShrinkException("tensor " + p.weightName(l) + " exists only in the " + (a == null ? "quantized" : "original") + " model");
                }
                if (a.outFeatures() != b.outFeatures() || a.inFeatures() != b.inFeatures()) {
                    throw new ShrinkException("tensor " + p.weightName(l) + " is (" + b.outFeatures() + ", " + b.inFeatures() + ") in the quantized model, ("
                            + a.outFeatures() + ", " + a.inFeatures() + ") in the original");
                }
            }
        }
    }

    /** Runs one gradient pass per distinct path point, then F(W̃) and F(W) if those ends were not among them. */
    public Result run() {
        TreeSet<Double> points = new TreeSet<>();
        for (double t : options.scores().ts()) points.add(t);
        for (Scheme s : options.also()) for (double t : s.ts()) points.add(t);
        double[] ts = points.stream().mapToDouble(Double::doubleValue).toArray();
        TreeSet<Double> scorePoints = new TreeSet<>();
        for (double t : options.scores().ts()) scorePoints.add(t);
        close();
        gradient = new WeightScratch(sizes, options.scratchDir());
        scores = new WeightScratch(sizes, options.scratchDir());
        double[] dots = new double[ts.length];
        double[] losses = new double[ts.length];
        Map<String, double[]> moduleDots = new LinkedHashMap<>();
        for (String name : sizes.keySet()) moduleDots.put(module(name), new double[ts.length]);
        for (int k = 0; k < ts.length; k++) {
            gradient.clear();
            losses[k] = path.loss(ts[k], (name, g) -> gradient.add(name, g, 1f));
            float w = scorePoints.contains(ts[k]) ? 1f / options.scores().points() : 0f;
            for (String name : sizes.keySet()) {
                float[] delta = path.delta(name);
                float[] g = gradient.read(name);
                double dot = 0;
                for (int i = 0; i < g.length; i++) {
                    dot += (double) delta[i] * g[i];
                    g[i] *= delta[i];
                }
                moduleDots.get(module(name))[k] = dot;
                dots[k] += dot;
                if (w != 0) scores.add(name, g, w); // Σ_k (W̃ − W) ⊙ ḡ(t_k) / N, in place (docs/methods/pqi-requant.md §2)
            }
        }
        double f0 = ts[0] == 0 ? losses[0] : path.loss(0, null);
        double f1 = ts[ts.length - 1] == 1 ? losses[ts.length - 1] : path.loss(1, null);
        return new Result(f0, f1, ts, dots, moduleDots, losses);
    }

    /** Per-weight PQI (d_out·d_in, row-major) of one decoder linear, e.g. {@code model.layers.0.self_attn.v_proj.weight}. */
    public float[] scores(String weightName) {
        if (scores == null) throw new IllegalStateException("run() first");
        return scores.read(weightName);
    }

    /** The names {@link #scores} answers for, in model order. */
    public List<String> weightNames() {
        return new ArrayList<>(sizes.keySet());
    }

    static String module(String weightName) {
        return weightName.endsWith(".weight") ? weightName.substring(0, weightName.length() - ".weight".length()) : weightName;
    }

    @Override
    public void close() {
        if (gradient != null) gradient.close();
        if (scores != null) scores.close();
        gradient = null;
        scores = null;
    }
}
