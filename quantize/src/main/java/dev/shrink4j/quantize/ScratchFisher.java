package dev.shrink4j.quantize;

import dev.shrink4j.model.Backprop;
import dev.shrink4j.model.GradientObserver;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Fisher diagonal of every decoder linear (docs/methods/squeezellm.md §1: squared per-sequence weight
 * gradients, batch 1, summed) gathered into a {@link WeightScratch} instead of the heap: ReQuant's
 * allocation (docs/methods/pqi-requant.md §4) needs it for all linears at once, 4 bytes per weight
 * (4.4 GB at 1.1 B parameters), and a mapped scratch file keeps that out of the heap and of RssAnon.
 * Same sums, same order as {@link GradientStatistics#gather}.
 */
final class ScratchFisher {
    private ScratchFisher() {}

    /**
     * @param scratchDir where the accumulator is memory-mapped; null: anonymous off-heap memory
     * @return weight name → (d_out·d_in) Σ_s g_s², owned by the caller (close it)
     */
    static WeightScratch gather(LlamaModel model, int[][] sequences, Path scratchDir, Quantizer.Listener listener) {
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (int l = 0; l < model.numLayers(); l++) {
            for (Proj p : Proj.values()) {
                var lin = model.layer(l).linear(p);
                if (lin != null) sizes.put(p.weightName(l), (long) lin.outFeatures() * lin.inFeatures());
            }
        }
        WeightScratch fisher = new WeightScratch(sizes, scratchDir);
        try {
            GradientObserver obs = new GradientObserver() {
                @Override
                public boolean wantsWeightGradient(String tensorName) {
                    return sizes.containsKey(tensorName);
                }

                @Override
                public void weightGradient(String tensorName, float[] grad) {
                    fisher.addSquares(tensorName, grad);
                }
            };
            listener.stage("Fisher diagonal (forward + backward per sequence)", sequences.length);
            Backprop backprop = new Backprop(model);
            for (int s = 0; s < sequences.length; s++) {
                backprop.run(sequences[s], 1, obs);
                listener.step(s + 1, "sequence");
            }
            return fisher;
        } catch (RuntimeException | Error e) {
            fisher.close();
            throw e;
        }
    }
}
