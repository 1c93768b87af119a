package dev.shrink4j.quantize;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.DenseAndSparse;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ReQuant (docs/methods/pqi-requant.md §3): final weight = dense low-bit D + sparse outliers S_o +
 * sparse significant weights S_s, stored as {@code dense_and_sparse} (one CSR for S_o + S_s).
 * <ol>
 *   <li>Fisher diagonal of the dense model (the sensitivity of docs/methods/pqi-requant.md §4, comparable across layers),
 *       in a {@link WeightScratch} off the heap;</li>
 *   <li>per-layer outlier ratios: {@link OutlierAllocation} over E_ℓ(ρ) measured with a proxy of the base
 *       (RTN for the uniform bases, Fisher-weighted k-means for the LUT ones), or r_o everywhere;</li>
 *   <li>the base quantizer over the block pipeline with those outliers taken out first
 *       ({@link Quantizer#withOutliers}: docs/methods/pqi-requant.md §3 steps 1, 3, 4 in one pass, so the dense part is quantized once,
 *       already without them);</li>
 *   <li>⌈r_s/β⌉ {@link SignificantDetach} steps, PQI recomputed on the current W̃ each time (docs/methods/pqi-requant.md §5).</li>
 * </ol>
 * Lifecycle: {@code new ReQuant(options, arena)} → {@link #run} → the model runs on D + S and
 * {@link Result#quantized()} holds the weights (in the arena).
 */
public final class ReQuant {
    /**
     * @param quantized     the weights (D + S per module) and their accounting, sparse part included (docs/methods/pqi-requant.md §6)
     * @param outlierRatios module → the r_o it got
     * @param outliers      |S_o| over all linears
     * @param detached      |S_s| added at each detach step
     */
    public record Result(Quantizer.Result quantized, Map<String, Double> outlierRatios, long outliers, List<Long> detached) {
        public long significant() {
            return detached.stream().mapToLong(Long::longValue).sum();
        }
    }

    private final ReQuantOptions options;
    private final Arena arena;
    private dev.shrink4j.model.Resume resume; // null: not resumable

    /** @param arena owns the compressed tensors; shared, open while the model or the result is used */
    public ReQuant(ReQuantOptions options, Arena arena) {
        this.options = options;
        this.arena = arena;
    }

    /**
     * Resume (docs/reliability.md "Resume"): the base quantization's finished blocks come from
     * {@code resume}; the outlier allocation and the PQI detach steps span the model and are recomputed.
     */
    public ReQuant withResume(dev.shrink4j.model.Resume resume) {
        this.resume = resume;
        return this;
    }

    /**
     * @param model       quantized in place (it runs on D + S afterwards)
     * @param original    the same checkpoint, loaded separately and left dense: W for PQI and the residuals
     * @param calibration needed: the Fisher and every PQI step run forward + backward passes over it
     */
    public Result run(LlamaModel model, LlamaModel original, Calibration calibration, Quantizer.Listener listener) {
        if (calibration == null) throw new IllegalArgumentException("requant needs calibration data: its Fisher and PQI steps take gradients");
        QuantizeOptions base = options.base();
        int[][] seqs = calibration.sequences();
        Map<String, Double> ratios = new LinkedHashMap<>();
        if (resume != null && resume.resumed()) {
            resume.note("resume: requant's outlier allocation and PQI detach steps span the model: recomputed (not checkpointed)");
        }
        if (options.outlierRatio() > 0) {
            ratios = options.adaptive() ? adaptiveRatios(original, seqs, listener) : uniformRatios(original);
        }
        Quantizer.Result q = new Quantizer(base, arena).withOutliers(ratios).withResume(resume).run(model, calibration, listener);
        Map<String, CompressedWeight> weights = new LinkedHashMap<>(q.weights());
        long outliers = 0;
        for (CompressedWeight cw : weights.values()) if (cw instanceof DenseAndSparse ds) outliers += ds.sparse().nnz();
        long total = q.parameters();
        long target = Math.round(options.significantRatio() * total), perStep = Math.round(options.step() * total);
        List<Long> detached = new ArrayList<>();
        Pqi.Options pqi = Pqi.Options.of(options.pqiPoints(), Pqi.Rule.LEFT).withScratchDir(options.scratchDir());
        for (int s = 0; s < options.detachSteps(); s++) {
            long k = s == options.detachSteps() - 1 ? target - detached.stream().mapToLong(Long::longValue).sum() : Math.min(perStep, target);
            listener.stage("requant detach step " + (s + 1) + "/" + options.detachSteps() + ": " + k + " weights by PQI (N = " + options.pqiPoints() + ")", 0);
            detached.add(SignificantDetach.step(original, model, weights, arena, seqs, pqi, k, listener));
        }
        return new Result(account(q, weights), ratios, outliers, detached);
    }

    /**
     * docs/methods/pqi-requant.md §4: E_ℓ(ρ) on the proxy over the grid, Fisher-weighted, then the allocation.
     * The Fisher of all linears lives in a {@link WeightScratch} (mapped when {@code scratchDir} is set), one
     * linear at a time on the heap; the candidates are ranked once per linear and each ratio takes a prefix.
     */
    private Map<String, Double> adaptiveRatios(LlamaModel original, int[][] seqs, Quantizer.Listener listener) {
        QuantizeOptions base = options.base();
        List<String> modules = new ArrayList<>();
        List<Long> sizes = new ArrayList<>();
        List<double[]> errors = new ArrayList<>();
        double[] grid = new double[OutlierAllocation.GRID.length];
        for (int g = 0; g < grid.length; g++) grid[g] = OutlierAllocation.GRID[g] * options.outlierRatio();
        try (WeightScratch fisher = ScratchFisher.gather(original, seqs, options.scratchDir(), listener)) {
            listener.stage("requant outlier allocation (" + grid.length + " ratios per linear, proxy " + (base.method().uniform() ? "rtn" : "k-means") + ")",
                    original.numLayers());
            for (int l = 0; l < original.numLayers(); l++) {
                for (Proj p : Proj.values()) {
                    Linear lin = original.layer(l).linear(p);
                    if (lin == null) continue;
                    int dOut = lin.outFeatures(), dIn = lin.inFeatures();
                    long n = (long) dOut * dIn;
                    float[] w;
                    try (Arena a = Arena.ofConfined()) {
                        w = lin.weight(a).toFloatArray();
                    }
                    float[] f = fisher.read(p.weightName(l));
                    int[] ranked = OutlierSplit.rankedFromRowMean(w, dOut, dIn, (int) OutlierAllocation.count(grid[grid.length - 1], n));
                    double[] e = new double[grid.length];
                    for (int g = 0; g < grid.length; g++) {
                        int[] pos = java.util.Arrays.copyOf(ranked, (int) OutlierAllocation.count(grid[g], n)); // = furthestFromRowMean(w, …, count)
                        float[] wq = OutlierSplit.without(w, pos);
                        float[] d = base.method().uniform()
                                ? Rtn.quantize(wq, dOut, dIn, base.bits(), base.groupSize(), base.symmetric()).dequantize()
                                : SqueezeLlm.quantize(wq, OutlierSplit.fisherWithout(f, pos), dOut, dIn, base.bits(), base.lutGroupFor(dIn)).dequantize();
                        e[g] = OutlierSplit.error(w, d, f, pos);
                    }
                    modules.add(p.module(l));
                    sizes.add(n);
                    errors.add(e);
                }
                listener.step(l + 1, "block");
            }
        }
        long[] n = sizes.stream().mapToLong(Long::longValue).toArray();
        long all = 0;
        for (long x : n) all += x;
        int[] pick = OutlierAllocation.allocate(errors.toArray(new double[0][]), n, grid, Math.round(options.outlierRatio() * all));
        Map<String, Double> r = new LinkedHashMap<>();
        for (int i = 0; i < modules.size(); i++) r.put(modules.get(i), grid[pick[i]]);
        return r;
    }

    private Map<String, Double> uniformRatios(LlamaModel original) {
        Map<String, Double> r = new LinkedHashMap<>();
        for (int l = 0; l < original.numLayers(); l++) {
            for (Proj p : Proj.values()) if (original.layer(l).linear(p) != null) r.put(p.module(l), options.outlierRatio());
        }
        return r;
    }

    /** The base's accounting with each module's bits re-measured on D + S (docs/methods/pqi-requant.md §6: the sparse part counts). */
    private static Quantizer.Result account(Quantizer.Result q, Map<String, CompressedWeight> weights) {
        long payload = 0, storage = 0;
        List<Quantizer.LayerReport> layers = new ArrayList<>();
        for (Quantizer.LayerReport r : q.layers()) {
            CompressedWeight cw = weights.get(r.module());
            payload += cw.payloadBytes();
            storage += cw.storageBytes();
            layers.add(new Quantizer.LayerReport(r.module(), r.dOut(), r.dIn(), cw.format(), r.objectiveInit(), r.objectiveAfter(),
                    cw.payloadBitsPerWeight(), cw.bitsPerWeight(), r.seconds(), r.note()));
        }
        return new Quantizer.Result(weights, layers, q.parameters(), payload, storage);
    }
}
