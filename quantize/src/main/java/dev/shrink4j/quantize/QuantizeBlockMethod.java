package dev.shrink4j.quantize;

import dev.shrink4j.model.BlockMethod;
import dev.shrink4j.model.CompressedLinear;
import dev.shrink4j.model.Group;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.DenseWeight;
import java.lang.foreign.Arena;
import java.util.EnumMap;
import java.util.Map;

/**
 * The quantizers' {@link BlockMethod}: the {@link BlockHessians} observe each group's inputs, then
 * {@link LayerQuantizer} compresses each member on its H (or guided H̄_k, or none when data-free), the
 * result goes to the {@link StreamedWeights} and the {@link BitAccounting}.
 */
final class QuantizeBlockMethod implements BlockMethod {
    private final QuantizeOptions options;
    private final GradientStatistics stats;
    private final BlockHessians hessians;
    private final StreamedWeights weights;
    private final BitAccounting accounting;
    private final boolean dataFree; // RTN without calibration: no inputs, no H, objectives NaN
    private final Map<String, Double> outlierRatios; // module → ReQuant's r_o for it (docs/methods/pqi-requant.md §3 steps 3–4); empty: none
    private ModuleOverrides overrides = ModuleOverrides.NONE;

    QuantizeBlockMethod(QuantizeOptions options, GradientStatistics stats, BlockHessians hessians, StreamedWeights weights,
                        BitAccounting accounting, boolean dataFree, Map<String, Double> outlierRatios) {
        this.outlierRatios = outlierRatios;
        this.options = options;
        this.stats = stats;
        this.hessians = hessians;
        this.weights = weights;
        this.accounting = accounting;
        this.dataFree = dataFree;
    }

    /** Per-module settings that differ from {@code options} (already checked against them). */
    QuantizeBlockMethod withOverrides(ModuleOverrides overrides) {
        this.overrides = overrides;
        return this;
    }

    @Override
    public boolean needsInputs(int layer) {
        return !dataFree && !hessians.cached(layer);
    }

    @Override
    public void observe(int layer, Group group, float[] x, int n, int dIn) {
        hessians.observe(layer, group, x, n, dIn);
    }

    @Override
    public Map<Proj, Linear> compress(int layer, Group group, Layer current, Arena blockArena) {
        Map<Proj, Linear> out = new EnumMap<>(Proj.class);
        hessians.beforeCompress(layer);
        int groupDIn = current.linear(group.members().get(0)).inFeatures();
        double[] h = options.method().guided() || dataFree ? null : hessians.plain(layer, group, groupDIn);
        for (Proj p : group.members()) {
            long t0 = System.nanoTime();
            Linear lin = current.linear(p);
            int dOut = lin.outFeatures(), dIn = lin.inFeatures();
            if (overrides.skips(p.module(layer))) {
                // Kept as the input stores it: not handed to the sink, so the writer copies the input's tensors.
                weights.arenaFor(layer, current); // the block's streaming state starts at its first member, skipped or not
                out.put(p, lin);
                accounting.add(p.module(layer), new DenseWeight(lin.weight(blockArena)),
                        new LayerQuantizer.Outcome(null, Double.NaN, Double.NaN, "kept unquantized (override)"), (System.nanoTime() - t0) / 1e9);
                continue;
            }
            QuantizeOptions options = overrides.optionsFor(p.module(layer), this.options);
            double[][] hs = dataFree ? null : h != null ? new double[][] {h} : hessians.guided(layer, p, dOut, groupDIn);
            if (lin instanceof CompressedLinear cl && ComposedQuantizer.keepsStructure(cl.compressed())) {
                // An earlier stage's N:M or low-rank layout: quantized in place, not densified (docs/recipes.md "What composes").
                if (outlierRatios.getOrDefault(p.module(layer), 0.0) > 0) {
                    throw new dev.shrink4j.tensors.ShrinkException(p.module(layer) + " is stored as " + cl.compressed().format()
                            + "; ReQuant's outliers are not built for it");
                }
                LayerQuantizer.Outcome o = ComposedQuantizer.quantize(options, weights.arenaFor(layer, current), p.module(layer), cl.compressed(), hs);
                out.put(p, new CompressedLinear(o.weight(), lin.bias()));
                weights.put(p.module(layer), o.weight());
                accounting.add(p.module(layer), o.weight(), o, (System.nanoTime() - t0) / 1e9);
                continue;
            }
            float[] w = lin.weight(blockArena).toFloatArray(); // a compressed input is dequantized here
            LayerQuantizer.checkFinite(p.weightName(layer), w);
            Arena into = weights.arenaFor(layer, current);
            // ReQuant: the outliers leave the dense part before it is quantized (docs/methods/pqi-requant.md §3)
            int[] outliers = OutlierSplit.furthestFromRowMean(w, dOut, dIn,
                    (int) OutlierAllocation.count(outlierRatios.getOrDefault(p.module(layer), 0.0), (long) dOut * dIn));
            float[] fisher = OutlierSplit.fisherWithout(stats.fisher().get(p.weightName(layer)), outliers);
            LayerQuantizer.Outcome o = LayerQuantizer.quantize(options, into, outliers.length == 0 ? w : OutlierSplit.without(w, outliers),
                    dOut, dIn, hs, fisher);
            CompressedWeight cw = o.weight();
            if (outliers.length > 0) {
                boolean[] mask = new boolean[w.length];
                for (int i : outliers) mask[i] = true;
                cw = OutlierSplit.withResiduals(into, cw, w, mask);
            }
            out.put(p, new CompressedLinear(cw, lin.bias()));
            weights.put(p.module(layer), cw);
            accounting.add(p.module(layer), cw, o, (System.nanoTime() - t0) / 1e9);
        }
        hessians.groupDone(group);
        return out;
    }

    @Override
    public Map<String, Object> blockRecord(int layer) {
        return accounting.blockRecord(layer);
    }

    @Override
    public Arena restoreArena(int layer, Layer current, Arena blockArena) {
        return weights.arenaFor(layer, current);
    }

    @Override
    public void restored(int layer, Layer original, Map<Proj, Linear> linears, Map<String, Object> record) {
        for (Map.Entry<Proj, Linear> e : linears.entrySet()) {
            String module = e.getKey().module(layer);
            CompressedWeight cw = ((CompressedLinear) e.getValue()).compressed();
            weights.put(module, cw);
            accounting.addRestored(cw, BitAccounting.report(record, module, cw));
        }
    }
}
