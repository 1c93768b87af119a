package dev.shrink4j.quantize;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code --target-bpw B}: bits per module chosen from measured sensitivity under a size budget.
 *
 * <p>Sensitivity of module m at b bits is its loss-weighted error ε_m(b) = ½ Σ_ij F_ij (W_ij − Q_b(W)_ij)²,
 * the second-order Taylor estimate of the loss change with the empirical Fisher F (the mean squared
 * gradient over the calibration tokens, one backward pass, docs/methods/squeezellm.md §1) in place of the
 * Hessian diagonal; Q_b is RTN on the run's grid (group size, symmetry), which costs exactly the bytes the
 * run's uniform method will store at b bits. {@link BitAllocation} then picks one b per module so that the
 * block linears' bytes stay within B/8 bytes per input weight. The choice is handed to the quantizer as
 * {@link ModuleOverrides}, one exact-name rule per module.
 *
 * <p>Uniform methods only (rtn, gptq, guided-gptq): a LUT method's bytes per bit-width depend on its
 * codebooks, not on this grid. Memory: the Fisher of every linear at once (4 bytes per weight).
 */
public final class MixedPrecision {
    /** Candidate bit-widths, cheapest first. */
    public static final List<Integer> CANDIDATES = List.of(2, 3, 4, 8);

    /** One module's measurement and choice, for the report. */
    public record ModuleChoice(String module, int dOut, int dIn, int bits, double[] error, long[] bytes) {}

    /** The choice: overrides for the quantizer, and what was measured. */
    public record Result(ModuleOverrides overrides, List<ModuleChoice> modules, long budgetBytes, long chosenBytes, long weights) {
        public double bitsPerWeight() {
            return 8.0 * chosenBytes / weights;
        }
    }

    private MixedPrecision() {}

    /**
     * Measures every block linear's sensitivity on {@code calibration} and allocates bits for {@code targetBpw}.
     *
     * @throws IllegalArgumentException for a LUT method, or a target below what 2 bits everywhere costs
     */
    public static Result choose(LlamaModel model, Calibration calibration, QuantizeOptions base, double targetBpw, Quantizer.Listener listener) {
        if (!base.method().uniform()) {
            throw new IllegalArgumentException("--target-bpw applies to uniform methods (rtn, gptq, guided-gptq); " + base.method().cliName()
                    + " stores codebooks whose size per bit-width this allocation does not model");
        }
        GradientStatistics stats = GradientStatistics.gather(model, calibration.sequences(), base, listener);
        List<BitAllocation.Candidates> candidates = new ArrayList<>();
        List<int[]> shapes = new ArrayList<>();
        long weights = 0;
        listener.stage("sensitivity: RTN error at " + CANDIDATES + " bits, Fisher-weighted", model.numLayers());
        for (int l = 0; l < model.numLayers(); l++) {
            Layer layer = model.layer(l);
            try (Arena arena = Arena.ofConfined()) {
                for (Proj proj : Proj.values()) { // Proj order, not the map's (which may differ from run to run): the same input, the same choice
                    Linear lin = layer.linears().get(proj);
                    if (lin == null) continue;
                    int dOut = lin.outFeatures(), dIn = lin.inFeatures();
                    float[] w = lin.weight(arena).toFloatArray();
                    float[] fisher = stats.fisher().get(proj.weightName(l));
                    int k = CANDIDATES.size();
                    int[] bits = new int[k];
                    long[] bytes = new long[k];
                    double[] error = new double[k];
                    for (int i = 0; i < k; i++) {
                        bits[i] = CANDIDATES.get(i);
                        UniformCodes q = Rtn.quantize(w, dOut, dIn, bits[i], base.groupSize(), base.symmetric());
                        float[] wq = q.dequantize();
                        double s = 0;
                        for (int j = 0; j < w.length; j++) {
                            double d = w[j] - wq[j];
                            s += fisher[j] * d * d;
                        }
                        error[i] = 0.5 * s;
                        bytes[i] = LayerQuantizer.pack(arena, q).storageBytes();
                    }
                    candidates.add(new BitAllocation.Candidates(proj.module(l), bits, bytes, error));
                    shapes.add(new int[] {dOut, dIn});
                    weights += (long) dOut * dIn;
                }
            }
            listener.step(l + 1, "block");
        }
        long budget = (long) Math.floor(targetBpw * weights / 8);
        int[] chosen;
        try {
            chosen = BitAllocation.allocate(candidates, budget);
        } catch (IllegalArgumentException e) { // below 2 bits everywhere
            long min = candidates.stream().mapToLong(c -> c.bytes()[0]).sum();
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "--target-bpw %s is below what 2 bits everywhere stores (%.3f bits/weight at this group size)", targetBpw, 8.0 * min / weights));
        }
        List<ModuleOverrides.Rule> rules = new ArrayList<>();
        List<ModuleChoice> report = new ArrayList<>();
        long spent = 0;
        for (int m = 0; m < candidates.size(); m++) {
            BitAllocation.Candidates c = candidates.get(m);
            rules.add(new ModuleOverrides.Rule(Pattern.compile("^" + Pattern.quote(c.module()) + "$"), false, chosen[m], null, null));
            spent += c.bytes()[CANDIDATES.indexOf(chosen[m])];
            report.add(new ModuleChoice(c.module(), shapes.get(m)[0], shapes.get(m)[1], chosen[m], c.error(), c.bytes()));
        }
        return new Result(new ModuleOverrides(rules), report, budget, spent, weights);
    }

    /** Modules per chosen bit-width, e.g. {2=3, 3=20, 4=12}. */
    public static Map<Integer, Integer> histogram(Result r) {
        Map<Integer, Integer> h = new LinkedHashMap<>();
        for (int b : CANDIDATES) h.put(b, 0);
        for (ModuleChoice m : r.modules()) h.merge(m.bits(), 1, Integer::sum);
        return h;
    }
}
