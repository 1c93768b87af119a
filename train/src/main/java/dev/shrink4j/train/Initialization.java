package dev.shrink4j.train;

import dev.shrink4j.lowrank.Budgets;
import dev.shrink4j.lowrank.Lost;
import dev.shrink4j.lowrank.LostDecomposition;
import dev.shrink4j.lowrank.LowRankFactors;
import dev.shrink4j.lowrank.TruncatedSvd;
import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.model.Proj;
import dev.shrink4j.model.Synthetic;
import dev.shrink4j.model.WeightSource;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The starting point of a run: dense weights (random, or a pretrained checkpoint's for {@code --init}),
 * then, for the factored parameterisations, each block linear replaced by its SVD factors
 * (docs/methods/lowrank-lost.md §7 step 2: LOST as in §4 with σ = SiLU; low-rank by the truncated SVD).
 */
public final class Initialization {
    /**
     * @param ratio params ratio P of each factored linear (values ≤ P·d_in·d_out, docs/methods/lowrank-lost.md §5)
     * @param rho   LOST's share of input channels kept
     * @param gamma LOST's blend γ
     */
    public record Factoring(Parameterization kind, double ratio, double rho, double gamma) {
        public static Factoring dense() {
            return new Factoring(Parameterization.DENSE, 1, Budgets.DEFAULT_RHO, 0.5);
        }
    }

    private Initialization() {}

    /**
     * Random weights: N(0, σ²) with σ = {@code initializer_range} (0.02 by default), norms 1, every
     * tensor from its own seed ({@link Synthetic#generate}); the residual-stream outputs (o_proj,
     * down_proj) scaled by 1/√(2L) as in GPT-2, so the residual's variance does not grow with depth.
     */
    public static TrainableModel random(Map<String, Object> configJson, long seed, Factoring factoring) {
        ModelConfig c = ModelConfig.parse(configJson, "the training config");
        double sigma = configJson.get("initializer_range") instanceof Number n ? n.doubleValue() : 0.02;
        double residual = 1 / Math.sqrt(2.0 * c.numLayers());
        Map<String, float[]> dense = new LinkedHashMap<>();
        Map<String, long[]> shapes = Synthetic.tensorShapes(c);
        try (Arena arena = Arena.ofConfined()) {
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                String name = e.getKey();
                float[] v = Synthetic.generate(name, e.getValue(), DType.F32, sigma, seed, arena).toFloatArray();
                if (name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight")) {
                    for (int i = 0; i < v.length; i++) v[i] *= (float) residual;
                }
                dense.put(name, v);
            }
        }
        return factor(configJson, c, dense, shapes, factoring);
    }

    /** Continues from a dense checkpoint's weights (widened to F32 copies; the source is not touched). */
    public static TrainableModel pretrained(Map<String, Object> configJson, WeightSource source, Factoring factoring) {
        ModelConfig c = ModelConfig.parse(configJson, "the --init config");
        if (!c.compressedTensors().isEmpty()) {
            throw new ShrinkException("--init " + source.directory() + ": the checkpoint holds compressed linears; start from a dense checkpoint");
        }
        Map<String, long[]> shapes = Synthetic.tensorShapes(c);
        Map<String, float[]> dense = new LinkedHashMap<>();
        for (String name : shapes.keySet()) dense.put(name, source.tensor(name).toFloatArray());
        return factor(configJson, c, dense, shapes, factoring);
    }

    private static TrainableModel factor(Map<String, Object> configJson, ModelConfig c, Map<String, float[]> dense, Map<String, long[]> shapes,
                                         Factoring f) {
        Map<String, Object> json = new LinkedHashMap<>(configJson);
        if (f.kind() == Parameterization.DENSE) return new TrainableModel(json, dense, shapes, Map.of());
        Map<String, float[]> params = new LinkedHashMap<>();
        Map<String, long[]> outShapes = new LinkedHashMap<>();
        Map<String, int[]> columns = new LinkedHashMap<>();
        Map<String, Object> formats = new LinkedHashMap<>();
        Lost lost = new Lost(Lost.Options.training(f.gamma()).withRho(f.rho()));
        TruncatedSvd svd = new TruncatedSvd();
        for (Map.Entry<String, float[]> e : dense.entrySet()) {
            String name = e.getKey();
            long[] shape = shapes.get(name);
            String module = name.substring(0, name.length() - ".weight".length());
            if (!isBlockLinear(name, c)) {
                params.put(name, e.getValue());
                outShapes.put(name, shape);
                continue;
            }
            int dOut = (int) shape[0], dIn = (int) shape[1];
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("shape", java.util.List.of(dOut, dIn));
            LowRankFactors lr;
            try {
                if (f.kind() == Parameterization.LOST) {
                    int cols = Budgets.lostColumns(dIn, f.rho());
                    LostDecomposition ld = lost.decompose(e.getValue(), dOut, dIn, Budgets.lostRank(dOut, dIn, f.ratio(), cols), cols);
                    lr = ld.lowRank();
                    params.put(module + ".col_values", ld.values());
                    columns.put(module + ".cols", ld.columns());
                    d.put("format", TrainableModel.LOST_FORMAT);
                    d.put("rank", lr.rank());
                    d.put("columns", cols);
                    d.put("gamma", f.gamma());
                    d.put("activation", "silu");
                } else {
                    lr = svd.compress(e.getValue(), dOut, dIn, Budgets.svdRank(dOut, dIn, f.ratio()));
                    d.put("format", TrainableModel.LOW_RANK_FORMAT);
                    d.put("rank", lr.rank());
                }
            } catch (ShrinkException ex) {
                throw new ShrinkException("--params-ratio " + f.ratio() + " for " + f.kind().cliName() + " at " + module + ": " + ex.getMessage());
            }
            params.put(module + ".lr_a", lr.a());
            outShapes.put(module + ".lr_a", new long[] {lr.rank(), dIn});
            params.put(module + ".lr_b", lr.b());
            outShapes.put(module + ".lr_b", new long[] {dOut, lr.rank()});
            if (columns.containsKey(module + ".cols")) {
                params.put(module + ".col_values", params.remove(module + ".col_values"));
                outShapes.put(module + ".col_values", new long[] {dOut, columns.get(module + ".cols").length});
            }
            formats.put(module, d);
        }
        Map<String, Object> sh = json.get("shrink4j") instanceof Map<?, ?> m ? castMap(m) : new LinkedHashMap<>();
        sh.put("tensors", formats);
        json.put("shrink4j", sh);
        return new TrainableModel(json, params, outShapes, columns);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Map<?, ?> m) {
        return new LinkedHashMap<>((Map<String, Object>) m);
    }

    private static boolean isBlockLinear(String name, ModelConfig c) {
        for (int l = 0; l < c.numLayers(); l++) {
            for (Proj p : Proj.values()) {
                if (p.weightName(l).equals(name)) return true;
            }
        }
        return false;
    }
}
