package dev.shrink4j.prune;

import dev.shrink4j.model.DenseLinear;
import dev.shrink4j.model.Group;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.IntConsumer;

/**
 * 2SSP (docs/methods/2ssp.md, arXiv:2501.17771): balance the target between FFN width and attention submodules
 * (docs/methods/2ssp.md §1), prune every FFN to the same width by intermediate-activation norms on the dense model
 * (stage 1, docs/methods/2ssp.md §2), then remove attention submodules one at a time by calibration perplexity on the
 * width-pruned model (stage 2, docs/methods/2ssp.md §3). The model is modified in place ({@link LlamaModel#setLayer});
 * its new layers live in the caller's arena, which must be shared (the forward runs on several threads).
 */
public final class TwoSsp {
    private TwoSsp() {}

    /** Parameter counts of docs/methods/2ssp.md §1 from the model's actual shapes. */
    public record Counts(long attention, long mlp, long main, long norms) {
        public static Counts of(LlamaModel model) {
            ModelConfig c = model.config();
            Layer l0 = model.layer(0);
            if (!l0.hasAttention()) {
                throw new ShrinkException("2SSP needs a model whose block 0 still has attention");
            }
            long attn = 0;
            for (Proj p : new Proj[] {Proj.Q, Proj.K, Proj.V, Proj.O}) {
                attn += params(l0.linear(p));
            }
            long mlp = params(l0.linear(Proj.GATE)) + params(l0.linear(Proj.UP)) + params(l0.linear(Proj.DOWN));
            long norms = 2L * c.hiddenSize();
            long main = 0;
            for (int l = 0; l < model.numLayers(); l++) {
                Layer layer = model.layer(l);
                if (!layer.hasAttention() || layer.intermediateSize() != l0.intermediateSize()) {
                    throw new ShrinkException("2SSP needs a dense input model with the same FFN width in every block; block "
                            + l + " is already structurally pruned");
                }
                for (Linear lin : layer.linears().values()) {
                    main += params(lin);
                }
                main += norms;
            }
            return new Counts(attn, mlp, main, norms);
        }

        private static long params(Linear l) {
            return (long) l.inFeatures() * l.outFeatures() + (l.bias() == null ? 0 : l.bias().length);
        }
    }

    /** The docs/methods/2ssp.md §1 balance for this model at target s. */
    public static TwoSspBalance balance(LlamaModel model, double s) {
        Counts c = Counts.of(model);
        return TwoSspBalance.compute(model.numLayers(), c.attention(), c.mlp(), c.main(),
                model.layer(0).intermediateSize(), s);
    }

    /**
     * Stage 1 scores (docs/methods/2ssp.md §2 steps 1–3): on the dense model, I_j = mean over samples of the L2 norm over
     * tokens of the down_proj input, for every block in the same passes.
     *
     * @param calibration (samples, seqLen) token ids
     * @param batch sequences per forward pass (memory knob; the scores do not depend on it)
     * @return per block, its {@link WidthPruning} accumulator
     */
    public static WidthPruning[] scoreNeurons(LlamaModel model, int[] calibration, int samples, int seqLen, int batch) {
        return scoreNeurons(model, calibration, samples, seqLen, batch, null);
    }

    /**
     * As above; {@code scored} (nullable) is told the number of sequences scored after every pass.
     * The batch is capped so that a pass's (batch·seqLen, max(h, d_ff)) activations index with an int.
     */
    public static WidthPruning[] scoreNeurons(LlamaModel model, int[] calibration, int samples, int seqLen, int batch,
                                              IntConsumer scored) {
        int layers = model.numLayers();
        WidthPruning[] acc = new WidthPruning[layers];
        int widest = model.config().hiddenSize();
        for (int l = 0; l < layers; l++) {
            acc[l] = new WidthPruning(model.layer(l).intermediateSize());
            widest = Math.max(widest, model.layer(l).intermediateSize());
        }
        batch = (int) Math.max(1, Math.min(batch, Integer.MAX_VALUE / ((long) seqLen * widest)));
        for (int s0 = 0; s0 < samples; s0 += batch) {
            int b = Math.min(batch, samples - s0);
            float[] x = model.embed(Arrays.copyOfRange(calibration, s0 * seqLen, (s0 + b) * seqLen));
            float[] y = new float[x.length];
            for (int l = 0; l < layers; l++) {
                WidthPruning w = acc[l];
                model.forwardLayer(l, x, b, seqLen, y, (layer, group, a, n, f) -> {
                    if (group != Group.DOWN) {
                        return;
                    }
                    for (int u = 0; u < b; u++) {
                        double[] sq = new double[f];
                        for (int t = u * seqLen; t < (u + 1) * seqLen; t++) {
                            for (int j = 0; j < f; j++) {
                                double v = a[t * f + j];
                                sq[j] += v * v;
                            }
                        }
                        w.observeSquaredNorms(sq);
                    }
                });
                float[] t = x;
                x = y;
                y = t;
            }
            if (scored != null) {
                scored.accept(s0 + b);
            }
        }
        return acc;
    }

    /**
     * Physical removal (docs/methods/2ssp.md §2 step 4): keeps rows {@code kept} of gate/up and the same columns of down
     * in block {@code layer}; installs the smaller layer in the model.
     */
    public static void keepNeurons(LlamaModel model, int layer, int[] kept, Arena arena) {
        Layer l = model.layer(layer);
        int h = model.config().hiddenSize();
        int f = l.intermediateSize();
        Map<Proj, Linear> lin = new EnumMap<>(Proj.class);
        lin.putAll(l.linears());
        for (Proj p : new Proj[] {Proj.GATE, Proj.UP}) {
            Linear old = l.linear(p);
            float[] w = WidthPruning.keepRows(old.weight(arena).toFloatArray(), h, kept);
            float[] bias = old.bias() == null ? null : WidthPruning.keepEntries(old.bias(), kept);
            lin.put(p, new DenseLinear(Tensor.ofFloats(arena, Shape.of(kept.length, h), w), bias));
        }
        Linear down = l.linear(Proj.DOWN);
        float[] wd = WidthPruning.keepColumns(down.weight(arena).toFloatArray(), h, f, kept);
        lin.put(Proj.DOWN, new DenseLinear(Tensor.ofFloats(arena, Shape.of(h, kept.length), wd), down.bias()));
        model.setLayer(new Layer(layer, l.attnNorm(), lin, l.mlpNorm()));
    }

    /** Block {@code layer} without its attention submodule and input norm (docs/methods/2ssp.md §5): out = x + MLP(norm₂(x)). */
    public static Layer withoutAttention(Layer l) {
        Map<Proj, Linear> lin = new EnumMap<>(Proj.class);
        for (Proj p : new Proj[] {Proj.GATE, Proj.UP, Proj.DOWN}) {
            lin.put(p, l.linear(p));
        }
        return new Layer(l.index(), null, lin, l.mlpNorm());
    }

    /**
     * Stage 2 (docs/methods/2ssp.md §3): removes {@code count} attention submodules greedily by the calibration NLL of
     * {@code sample} (one sequence of seqLen tokens); the removals are installed in the model.
     */
    public static List<GreedyRemoval.Step> removeAttention(LlamaModel model, int[] sample, int seqLen, int count,
                                                           GreedyRemoval.Progress progress) {
        return removeAttention(model, sample, seqLen, count, progress, GreedyRemoval.Journal.NONE);
    }

    /** As above, with the rounds {@code journal} keeps (resume). */
    public static List<GreedyRemoval.Step> removeAttention(LlamaModel model, int[] sample, int seqLen, int count,
                                                           GreedyRemoval.Progress progress, GreedyRemoval.Journal journal) {
        Layer[] original = new Layer[model.numLayers()];
        for (int l = 0; l < original.length; l++) {
            original[l] = model.layer(l);
        }
        GreedyRemoval.Scorer scorer = disabled -> {
            for (int l = 0; l < original.length; l++) {
                model.setLayer(disabled.contains(l) ? withoutAttention(original[l]) : original[l]);
            }
            return Math.exp(CalibrationNll.mean(model, sample, 1, seqLen, Collections.emptySet()));
        };
        SortedSet<Integer> start = new TreeSet<>();
        for (int l = 0; l < original.length; l++) {
            if (!original[l].hasAttention()) {
                start.add(l);
            }
        }
        List<GreedyRemoval.Step> steps = GreedyRemoval.run(original.length, start, count, scorer, progress, journal);
        TreeSet<Integer> removed = new TreeSet<>(start);
        steps.forEach(s -> removed.add(s.removed()));
        for (int l = 0; l < original.length; l++) {
            model.setLayer(removed.contains(l) ? withoutAttention(original[l]) : original[l]);
        }
        return steps;
    }
}
