package dev.shrink4j.quantize;

import dev.shrink4j.model.Group;
import dev.shrink4j.model.InputStatistics;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import java.util.EnumMap;
import java.util.Map;

/**
 * The layer Hessians of the block being quantized, one source per block: the {@link HessianCache},
 * or the group inputs observed by the pipeline — H = Σ x xᵀ per group (docs/methods/pipeline.md §1–§2),
 * or GuidedQuant's H̄_k per member and output group (docs/methods/guidedquant-lnq.md §2), weighted by the gradient pass's saliencies.
 * Lifecycle per group: {@link #observe} (per chunk) → {@link #plain} / {@link #guided} (taken, not copied).
 */
final class BlockHessians {
    private final QuantizeOptions options;
    private final GradientStatistics stats;
    private final HessianCache cache; // null: no Hessian cache
    private final boolean[] cached; // per block: every Hessian is in the cache (no inputs needed)
    private final Map<Group, InputStatistics> plain = new EnumMap<>(Group.class);
    private final Map<Proj, GuidedHessians> guided = new EnumMap<>(Proj.class);
    private final Map<Group, Integer> seen = new EnumMap<>(Group.class); // tokens observed per group (saliency rows)
    // Hessians taken from the accumulators to be saved, until their group is compressed.
    private final Map<Group, double[]> takenPlain = new EnumMap<>(Group.class);
    private final Map<Proj, double[][]> takenGuided = new EnumMap<>(Proj.class);
    private int savedBlock = -1;

    BlockHessians(QuantizeOptions options, GradientStatistics stats, HessianCache cache, int layers) {
        this.options = options;
        this.stats = stats;
        this.cache = cache;
        this.cached = new boolean[layers];
        for (int l = 0; l < layers && cache != null; l++) cached[l] = cache.has(l);
    }

    /** Whether block {@code layer}'s Hessians all come from the cache. */
    boolean cached(int layer) {
        return cache != null && cached[layer];
    }

    /** The progress line for the Hessian cache (blocks found, size). */
    String cacheStage(LlamaModel model) {
        int n = 0;
        for (boolean c : cached) n += c ? 1 : 0;
        long bytes = HessianCache.modelBytes(model, options.method().guided(), options::guidedGroupsFor);
        String size = String.format("%.1f MiB", bytes / 1048576.0);
        String dir = cache.directory().getFileName().toString();
        return n == cached.length ? "Hessians from cache " + dir + " (" + n + " blocks, " + size + ")"
                : "Hessians to cache " + dir + " (" + n + "/" + cached.length + " blocks cached; " + size + " when complete)";
    }

    /** One chunk x (n, d_in) of {@code group}'s inputs. */
    void observe(int layer, Group group, float[] x, int n, int dIn) {
        if (options.method().guided()) {
            int from = seen.getOrDefault(group, 0);
            if (options.method().densePropagation()) checkInStep(layer, group, x, n, dIn, from);
            for (Proj p : group.members()) {
                float[] sal = stats.saliency().get(p.module(layer));
                int g = sal.length / stats.tokens();
                guided.computeIfAbsent(p, k -> new GuidedHessians(dIn, g)).observe(x, sal, from, n);
            }
            seen.put(group, from + n);
        } else {
            plain.computeIfAbsent(group, k -> new InputStatistics(dIn)).add(x, n);
        }
    }

    /**
     * Before block {@code layer}'s first group is compressed: with dense propagation the pipeline has
     * observed the whole block, so a block not yet cached is saved now — its Hessians are taken out of
     * the accumulators (no copy), stored, and kept for {@link #plain} / {@link #guided}.
     */
    void beforeCompress(int layer) {
        if (cache == null || layer == savedBlock) return;
        savedBlock = layer;
        if (cached[layer]) return;
        try (HessianCache.BlockWriter w = cache.writer(layer)) {
            for (Map.Entry<Group, InputStatistics> e : plain.entrySet()) {
                double[] h = e.getValue().takeHessian();
                w.add(HessianCache.plainName(e.getKey()), h, e.getValue().dIn());
                takenPlain.put(e.getKey(), h);
            }
            for (Map.Entry<Proj, GuidedHessians> e : guided.entrySet()) {
                double[][] hs = new double[e.getValue().groups()][];
                for (int k = 0; k < hs.length; k++) {
                    hs[k] = e.getValue().takeHessian(k);
                    w.add(HessianCache.guidedName(e.getKey().module(layer), k), hs[k], e.getValue().dIn());
                }
                takenGuided.put(e.getKey(), hs);
            }
            plain.clear();
            guided.clear();
            w.commit();
        }
    }

    /** The plain H (d_in, d_in) of {@code group}: from the cache, taken for saving, or from its accumulator. */
    double[] plain(int layer, Group group, int dIn) {
        if (cached(layer)) return cache.read(layer, HessianCache.plainName(group), dIn);
        double[] h = takenPlain.remove(group);
        return h != null ? h : plain.remove(group).takeHessian();
    }

    /** The g guided H̄_k (d_in, d_in) of {@code p}, likewise. */
    double[][] guided(int layer, Proj p, int dOut, int dIn) {
        if (cached(layer)) {
            double[][] hs = new double[options.guidedGroupsFor(dOut)][];
            for (int k = 0; k < hs.length; k++) hs[k] = cache.read(layer, HessianCache.guidedName(p.module(layer), k), dIn);
            return hs;
        }
        double[][] hs = takenGuided.remove(p);
        if (hs != null) return hs;
        GuidedHessians gh = guided.remove(p);
        hs = new double[gh.groups()][];
        for (int k = 0; k < hs.length; k++) hs[k] = gh.takeHessian(k);
        return hs;
    }

    /** After {@code group} is compressed: its saliency rows start again at token 0 in the next block. */
    void groupDone(Group group) {
        seen.remove(group);
    }

    /**
     * docs/methods/guidedquant-lnq.md §3 step 3: the Hessian pass must see the tokens of the saliency pass in the same order. With dense
     * propagation both passes run the same dense model, so the inputs' per-token norms must agree.
     */
    private void checkInStep(int layer, Group group, float[] x, int n, int dIn, int from) {
        float[] expected = stats.inputNorms().get(group.members().get(0).module(layer));
        float[] got = GradientStatistics.rowNorms(x, n, dIn);
        for (int t = 0; t < n; t++) {
            float e = expected[from + t];
            if (Math.abs(got[t] - e) > 1e-3f * (1 + Math.abs(e))) {
                throw new IllegalStateException("guided statistics out of step at layer " + layer + " " + group + " token " + (from + t)
                        + ": input norm " + got[t] + " vs " + e + " in the gradient pass");
            }
        }
    }
}
