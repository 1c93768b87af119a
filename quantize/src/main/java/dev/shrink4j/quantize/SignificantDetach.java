package dev.shrink4j.quantize;

import dev.shrink4j.model.CompressedLinear;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.CsrSparse;
import dev.shrink4j.tensors.formats.DenseAndSparse;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One step of the step-wise significant-weight detach (docs/methods/pqi-requant.md §5, a reconstruction
 * of the paper's Algorithm 2): PQI between W and the current W̃ = D + S_o + S_s, recomputed every step;
 * positions already sparse are excluded; the top k positions over all linears by signed PQI (largest
 * loss increase first) join the sparse part with the residual w − D, so that W̃ = W there.
 */
final class SignificantDetach {
    private SignificantDetach() {}

    /**
     * @param original  W
     * @param quantized runs on {@code weights}; its layers are replaced by the updated linears. Modified
     * @param weights   module → current D (+ S); entries replaced. Modified
     * @return positions detached in this step
     */
    static long step(LlamaModel original, LlamaModel quantized, Map<String, CompressedWeight> weights, Arena arena, int[][] sequences,
                     Pqi.Options pqiOptions, long k, Quantizer.Listener listener) {
        try (Pqi pqi = new Pqi(original, quantized, pqiOptions, sequences, listener)) {
            pqi.run();
            List<String> names = pqi.weightNames();
            // One tensor on the heap at a time: the scores stay in Pqi's (mapped) scratch, the masks come
            // from each weight's CSR; what the selection reads it reads again, rather than holding
            // 5 bytes per weight of the whole model (docs/pqi.md, scale).
            Function<String, boolean[]> eligible = n -> invert(mask(weights.get(Pqi.module(n))));
            TopWeights.Threshold th = TopWeights.threshold(names, pqi::scores, eligible, k);
            long ties = th.ties(), taken = 0;
            for (String name : names) {
                String module = Pqi.module(name);
                boolean[] m = mask(weights.get(module));
                float[] s = pqi.scores(name);
                boolean changed = false;
                for (int i = 0; i < s.length; i++) {
                    if (m[i] || Float.isNaN(s[i])) continue;
                    int key = TopWeights.key(s[i]);
                    if (key > th.key() || (key == th.key() && ties > 0)) {
                        if (key == th.key()) ties--;
                        m[i] = true;
                        taken++;
                        changed = true;
                    }
                }
                if (!changed) continue;
                int[] lp = layerAndProj(module);
                Proj p = Proj.values()[lp[1]];
                float[] w;
                try (Arena a = Arena.ofConfined()) {
                    w = original.layer(lp[0]).linear(p).weight(a).toFloatArray();
                }
                CompressedWeight cw = OutlierSplit.withResiduals(arena, OutlierSplit.dense(weights.get(module)), w, m);
                weights.put(module, cw);
                Layer l = quantized.layer(lp[0]);
                quantized.setLayer(l.with(p, new CompressedLinear(cw, l.linear(p).bias())));
            }
            return taken;
        }
    }

    /** The positions a weight's sparse part holds (all false for a dense-only weight). */
    static boolean[] mask(CompressedWeight cw) {
        boolean[] m = new boolean[cw.dOut() * cw.dIn()];
        if (cw instanceof DenseAndSparse ds) {
            CsrSparse s = ds.sparse();
            for (int j = 0; j < s.dOut(); j++) {
                for (int p = s.rowStart(j); p < s.rowStart(j + 1); p++) m[j * s.dIn() + s.column(p)] = true;
            }
        }
        return m;
    }

    private static boolean[] invert(boolean[] m) {
        boolean[] r = new boolean[m.length];
        for (int i = 0; i < m.length; i++) r[i] = !m[i];
        return r;
    }

    /** {@code model.layers.3.mlp.down_proj} → {3, DOWN.ordinal()}. */
    static int[] layerAndProj(String module) {
        int layer = Integer.parseInt(module.split("\\.")[2]);
        for (Proj p : Proj.values()) if (p.module(layer).equals(module)) return new int[] {layer, p.ordinal()};
        throw new IllegalArgumentException("not a decoder linear: " + module);
    }
}
