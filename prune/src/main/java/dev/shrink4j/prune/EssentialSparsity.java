package dev.shrink4j.prune;

import dev.shrink4j.model.DenseLinear;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Essential-sparsity analysis (docs/methods/essential-sparsity.md, arXiv:2306.03805): one-shot magnitude pruning of the block linears
 * (q, k, v, o, gate, up, down; embeddings, norms, head and biases excluded, docs/methods/essential-sparsity.md §1) swept over sparsity
 * levels, each point evaluated by NLL on evaluation windows, the sharp dropping point detected by the
 * tolerance rule and cross-checked by the knee rule (docs/methods/essential-sparsity.md §4). The original weights stay mapped
 * read-only; each point prunes copies of one block at a time while that block runs (copy-on-write,
 * docs/methods/essential-sparsity.md §3), so memory stays one block plus activations at any model size.
 */
public final class EssentialSparsity {
    /** Sweep variants (docs/methods/essential-sparsity.md §2). */
    public enum Variant {
        GLOBAL("global"), LAYERWISE("layer-wise"), NM_2_4("2:4"), NM_4_8("4:8");

        private final String id;

        Variant(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        NmPattern pattern() {
            return this == NM_2_4 ? NmPattern.TWO_FOUR : this == NM_4_8 ? NmPattern.FOUR_EIGHT : null;
        }

        public boolean isCurve() {
            return pattern() == null;
        }
    }

    /**
     * One evaluated point.
     *
     * @param achieved fraction of exact zeros over the included weights
     * @param perMatrix sparsity of each included matrix (module name → fraction)
     */
    public record Point(Variant variant, double target, double achieved, double nll, Map<String, Double> perMatrix) {
        public double ppl() {
            return Math.exp(nll);
        }
    }

    /**
     * The detected point of one curve.
     *
     * @param tolerance ES_τ (docs/methods/essential-sparsity.md §4 rule 1) on the sweep grid
     * @param refined   ES_τ after the finer steps around it (= tolerance when none were run)
     * @param knee      the knee fit; its sparsity when accepted
     * @param flagged   the two rules differ by more than one grid step (or the knee was rejected)
     */
    public record Detection(Variant variant, double tolerance, double refined, EssentialPoint.Knee knee,
                            double kneeSparsity, boolean flagged) {}

    /** Per-point progress. */
    @FunctionalInterface
    public interface Progress {
        void point(Point p, int done, int total);
    }

    private EssentialSparsity() {}

    /** Included matrices in scan order: block by block, projections in {@link Proj} order. */
    static List<Proj> projections(Layer l) {
        List<Proj> out = new ArrayList<>();
        for (Proj p : Proj.values()) {
            if (l.linear(p) != null) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Runs the sweep.
     *
     * @param windows (nWindows, seqLen) evaluation ids (BOS first, docs/methods/evaluation.md §1)
     * @param levels  ascending, starting at 0
     * @param refineStep step of the refinement around ES_τ of the global curve (0: none)
     */
    public static Result sweep(LlamaModel model, int[] windows, int nWindows, int seqLen, double[] levels,
                               List<Variant> variants, double tau, double refineStep, Progress progress) {
        if (levels.length == 0 || levels[0] != 0.0) {
            throw new IllegalArgumentException("levels must start at 0");
        }
        for (double p : levels) {
            SparsityTarget.check(p, "--levels");
        }
        List<Tensor> scope = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        List<Variant> run = new ArrayList<>(variants);
        for (int l = 0; l < model.numLayers(); l++) {
            for (Proj p : projections(model.layer(l))) {
                Linear lin = model.layer(l).linear(p);
                scope.add(lin.weight(Arena.global()));
                names.add(p.module(l));
                for (Variant v : variants) {
                    if (!v.isCurve() && lin.inFeatures() % v.pattern().m() != 0 && run.remove(v)) {
                        notes.add(String.format(Locale.ROOT, "%s skipped: %s has %d input columns, not a multiple of %d",
                                v.id(), p.module(l), lin.inFeatures(), v.pattern().m()));
                    }
                }
            }
        }
        variants = run;
        double denseNll = CalibrationNll.mean(model, windows, nWindows, seqLen, Set.of());
        List<Point> points = new ArrayList<>();
        int total = 0;
        for (Variant v : variants) {
            total += v.isCurve() ? levels.length - 1 : 1;
        }
        final int planned = total; // refinement points come on top
        java.util.function.Consumer<Point> add = pt -> {
            points.add(pt);
            if (progress != null) {
                progress.point(pt, points.size(), Math.max(planned, points.size()));
            }
        };
        List<Detection> detections = new ArrayList<>();
        RadixSelect.Cut[] cuts = variants.contains(Variant.GLOBAL) ? GlobalMagnitude.cuts(scope, levels) : null;
        for (Variant v : variants) {
            if (!v.isCurve()) {
                add.accept(evaluate(model, windows, nWindows, seqLen, v, v.pattern().sparsity(), null));
                continue;
            }
            double[] ppl = new double[levels.length];
            ppl[0] = Math.exp(denseNll);
            for (int i = 1; i < levels.length; i++) {
                Point pt = evaluate(model, windows, nWindows, seqLen, v, levels[i], cuts == null ? null : cuts[i]);
                ppl[i] = pt.ppl();
                add.accept(pt);
            }
            int es = EssentialPoint.tolerance(levels, ppl, tau);
            double refined = levels[es];
            if (refineStep > 0 && es + 1 < levels.length) {
                // docs/methods/essential-sparsity.md §3: refine between ES_τ and the next grid point
                List<Double> fine = new ArrayList<>();
                for (double p = levels[es] + refineStep; p < levels[es + 1] - 1e-9; p += refineStep) {
                    fine.add(Math.round(p * 1e6) / 1e6);
                }
                RadixSelect.Cut[] fineCuts = v == Variant.GLOBAL && !fine.isEmpty()
                        ? GlobalMagnitude.cuts(scope, fine.stream().mapToDouble(Double::doubleValue).toArray()) : null;
                for (int i = 0; i < fine.size(); i++) {
                    Point pt = evaluate(model, windows, nWindows, seqLen, v, fine.get(i), fineCuts == null ? null : fineCuts[i]);
                    add.accept(pt);
                    if (pt.ppl() / ppl[0] - 1.0 <= tau) {
                        refined = fine.get(i);
                    } else {
                        break;
                    }
                }
            }
            EssentialPoint.Knee knee = EssentialPoint.knee(levels, ppl);
            double kneeP = knee.accepted() ? levels[knee.index()] : Double.NaN;
            double step = levels.length > 1 ? levels[1] - levels[0] : 0;
            boolean flagged = !knee.accepted() || Math.abs(kneeP - levels[es]) > step + 1e-9;
            detections.add(new Detection(v, levels[es], refined, knee, kneeP, flagged));
        }
        double jaccardAt = Double.NaN;
        double jaccard = Double.NaN;
        for (Detection d : detections) {
            if (d.variant() == Variant.GLOBAL && d.refined() > 0 && variants.contains(Variant.LAYERWISE)) {
                jaccardAt = d.refined();
                jaccard = maskOverlap(scope, jaccardAt);
            }
        }
        return new Result(names, denseNll, levels, tau, points, detections, notes, jaccardAt, jaccard);
    }

    /**
     * Jaccard overlap |G ∩ L| / |G ∪ L| of the weights pruned by the global threshold (G) and by the
     * per-matrix thresholds (L) at the same level p (docs/methods/essential-sparsity.md §5 item 3), over all included matrices.
     */
    static double maskOverlap(List<Tensor> scope, double p) {
        RadixSelect.Applier global = GlobalMagnitude.cuts(scope, new double[] {p})[0].applier();
        long inter = 0;
        long union = 0;
        for (Tensor t : scope) {
            float[] w = t.toFloatArray();
            RadixSelect.Applier local = RadixSelect.of(w, SparsityTarget.count(p, w.length)).applier();
            for (float v : w) {
                int k = RadixSelect.magnitudeKey(v);
                boolean g = global.prune(k);
                boolean l = local.prune(k);
                inter += g && l ? 1 : 0;
                union += g || l ? 1 : 0;
            }
        }
        return union == 0 ? 1.0 : (double) inter / union;
    }

    /** Prunes copies of the block linears per the variant and evaluates them block by block. */
    static Point evaluate(LlamaModel model, int[] windows, int nWindows, int seqLen, Variant v, double p,
                          RadixSelect.Cut cut) {
        RadixSelect.Applier applier = cut == null ? null : cut.applier();
        long[] zeros = {0};
        long[] count = {0};
        Map<String, Double> perMatrix = new LinkedHashMap<>();
        double nll = CalibrationNll.mean(model, windows, nWindows, seqLen, Set.of(), (l, original, arena) -> {
            Layer layer = original;
            for (Proj proj : projections(original)) {
                Linear lin = original.linear(proj);
                int dOut = lin.outFeatures();
                int dIn = lin.inFeatures();
                float[] w = lin.weight(arena).toFloatArray();
                switch (v) {
                    case GLOBAL -> applier.apply(w, 0, w.length);
                    case LAYERWISE -> Magnitude.pruneMatrix(w, p);
                    default -> Magnitude.pruneNm(w, dOut, dIn, v.pattern());
                }
                long z = Masks.zeros(w);
                zeros[0] += z;
                count[0] += w.length;
                perMatrix.put(proj.module(l), (double) z / w.length);
                layer = layer.with(proj, new DenseLinear(Tensor.ofFloats(arena, Shape.of(dOut, dIn), w), lin.bias()));
            }
            return layer;
        });
        return new Point(v, p, (double) zeros[0] / count[0], nll, perMatrix);
    }

    /** The sweep's outcome. */
    /**
     * @param jaccardLevel level of the mask-overlap figure (global ES_τ), NaN when not computed
     * @param jaccard      overlap of the global and layer-wise masks there
     */
    public record Result(List<String> matrices, double denseNll, double[] levels, double tau, List<Point> points,
                         List<Detection> detections, List<String> notes, double jaccardLevel, double jaccard) {
        public double densePpl() {
            return Math.exp(denseNll);
        }

        /** Points of one variant, ascending in target sparsity, with the dense point first for curves. */
        public List<Point> curve(Variant v) {
            List<Point> out = new ArrayList<>();
            if (v.isCurve()) {
                out.add(new Point(v, 0, 0, denseNll, Map.of()));
            }
            points.stream().filter(p -> p.variant() == v).sorted((a, b) -> Double.compare(a.target(), b.target())).forEach(out::add);
            return out;
        }

        public String summary() {
            StringBuilder sb = new StringBuilder();
            notes.forEach(n -> sb.append(n).append('\n'));
            if (!Double.isNaN(jaccard)) {
                sb.append(String.format(Locale.ROOT, "global vs layer-wise mask overlap at %.0f%%: Jaccard %.3f%n", jaccardLevel * 100, jaccard));
            }
            for (Detection d : detections) {
                sb.append(String.format(Locale.ROOT, "%s: ES_τ=%.0f%% (refined %.0f%%), knee %s%s%n", d.variant().id(),
                        d.tolerance() * 100, d.refined() * 100,
                        d.knee().accepted() ? String.format(Locale.ROOT, "%.0f%%", d.kneeSparsity() * 100) : "none",
                        d.flagged() ? " [rules disagree]" : ""));
            }
            return sb.toString();
        }
    }
}
