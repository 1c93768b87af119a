package dev.shrink4j.prune;

import dev.shrink4j.model.DenseLinear;
import dev.shrink4j.model.Group;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.linalg.Damping;
import java.lang.foreign.Arena;
import java.util.Locale;

/**
 * Unstructured and N:M pruning of every block linear (q, k, v, o, gate, up, down) with magnitude,
 * Wanda or SparseGPT, streamed block by block (§1.2): the calibration hidden states enter block b,
 * each true-sequential group's statistics are gathered with the block's already-pruned earlier
 * groups, the group is pruned, and the pruned block produces the next block's inputs (compressed
 * propagation). Each pruned matrix goes to the {@link Sink} as soon as it is done; the block's
 * original weights are put back and its arena closed, so memory stays one block plus activations.
 */
public final class LayerwisePruner {
    /** The per-matrix score. */
    public enum Method {
        MAGNITUDE, WANDA, SPARSEGPT;

        public boolean needsCalibration() {
            return this != MAGNITUDE;
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * @param sparsity  fraction removed per matrix (per row for Wanda, per column block for SparseGPT); unused for N:M
     * @param pattern   N:M pattern, or null for unstructured
     * @param blockSize SparseGPT's column block bs
     * @param damp      SparseGPT's relative damping δ
     * @param global    magnitude only: one threshold over all block linears (§2.4) instead of per matrix
     */
    public record Settings(Method method, double sparsity, NmPattern pattern, int blockSize, double damp, boolean global) {
        public Settings {
            if (pattern == null) {
                SparsityTarget.check(sparsity, "--sparsity");
            }
            if (global && (method != Method.MAGNITUDE || pattern != null)) {
                throw new IllegalArgumentException("a global threshold applies to unstructured magnitude pruning only");
            }
        }

        public static Settings of(Method method, double sparsity, NmPattern pattern) {
            return new Settings(method, sparsity, pattern, SparseGpt.BLOCK_SIZE, 0.01, false);
        }
    }

    /** Receives each pruned matrix once. */
    @FunctionalInterface
    public interface Sink {
        /** @param w (d_out, d_in) row-major, pruned (and updated by SparseGPT) */
        void accept(int layer, Proj proj, float[] w, int dOut, int dIn);
    }

    /** Per-block progress. */
    @FunctionalInterface
    public interface Progress {
        void block(int layer, int layers, String detail);
    }

    private LayerwisePruner() {}

    /**
     * Prunes every block linear of {@code model}; the model is left as it was.
     *
     * @param calibration (samples, seqLen) token ids, or null for magnitude
     */
    public static void run(LlamaModel model, int[] calibration, int samples, int seqLen, Settings s, Sink sink,
                           Progress progress) {
        run(model, calibration, samples, seqLen, s, sink, progress, null);
    }

    /**
     * As above; when {@code keep} (a shared arena) is given, the pruned layers stay installed in the
     * model with their weights in {@code keep}, so the pruned model can be evaluated in memory.
     */
    public static void run(LlamaModel model, int[] calibration, int samples, int seqLen, Settings s, Sink sink,
                           Progress progress, Arena keep) {
        int layers = model.numLayers();
        boolean calibrate = s.method().needsCalibration();
        if (calibrate && (calibration == null || samples == 0)) {
            throw new IllegalArgumentException(s.method().id() + " needs calibration tokens");
        }
        float[] z = calibrate ? model.embed(calibration) : null; // (samples·seqLen, hidden)
        float[] next = calibrate ? new float[z.length] : null;
        Damping.Listener damping = (failed, pivot, nextDelta) -> { };
        // §2.4 global: one radix-select cut over every block linear, applied in the same scan order
        RadixSelect.Applier globalCut = null;
        if (s.global()) {
            java.util.List<Tensor> scope = new java.util.ArrayList<>();
            for (int l = 0; l < layers; l++) {
                for (Proj p : EssentialSparsity.projections(model.layer(l))) {
                    scope.add(model.layer(l).linear(p).weight(Arena.global()));
                }
            }
            globalCut = GlobalMagnitude.cuts(scope, new double[] {s.sparsity()})[0].applier();
        }
        for (int l = 0; l < layers; l++) {
            Layer original = model.layer(l);
            Layer current = original;
            StringBuilder detail = new StringBuilder();
            Arena blockArena = Arena.ofShared(); // shared: the forward splits rows across threads
            Arena arena = keep != null ? keep : blockArena;
            try {
                for (Group g : Group.values()) {
                    if (g.isAttention() && !current.hasAttention()) {
                        continue;
                    }
                    int dIn = current.linear(g.members().get(0)).inFeatures();
                    Hessian stats = null;
                    if (calibrate) {
                        stats = new Hessian(dIn);
                        Hessian target = stats;
                        boolean full = s.method() == Method.SPARSEGPT;
                        Chunks.groupInput(model, l, z, samples, seqLen, g, (layer, group, x, n, d) -> {
                            if (group != g) {
                                return; // earlier groups' inputs pass by on the way
                            }
                            if (full) {
                                target.observe(x, n);
                            } else {
                                target.observeSquaresOnly(x, n);
                            }
                        });
                    }
                    for (Proj p : g.members()) {
                        Linear lin = current.linear(p);
                        int dOut = lin.outFeatures();
                        float[] w = lin.weight(arena).toFloatArray();
                        switch (s.method()) {
                            case MAGNITUDE -> {
                                if (globalCut != null) {
                                    globalCut.apply(w, 0, w.length);
                                } else if (s.pattern() == null) {
                                    Magnitude.pruneMatrix(w, s.sparsity());
                                } else {
                                    Magnitude.pruneNm(w, dOut, dIn, s.pattern());
                                }
                            }
                            case WANDA -> Wanda.ofSumSquares(stats.sumSquares()).prune(w, dOut, dIn, s.sparsity(), s.pattern());
                            case SPARSEGPT -> {
                                SparseGptLayer.Outcome o = SparseGptLayer.prune(w, dOut, dIn, stats.matrix(),
                                        s.sparsity(), s.pattern(), s.blockSize(), s.damp(), damping);
                                if (o.retries() > 0 || o.deadColumns() > 0) {
                                    detail.append(String.format(Locale.ROOT, " %s: δ=%g, %d dead columns;", p, o.delta(), o.deadColumns()));
                                }
                            }
                        }
                        sink.accept(l, p, w, dOut, dIn);
                        current = current.with(p, new DenseLinear(Tensor.ofFloats(arena, Shape.of(dOut, dIn), w), lin.bias()));
                    }
                    model.setLayer(current);
                }
                if (calibrate) {
                    Chunks.forward(model, l, z, samples, seqLen, next, null);
                    float[] t = z;
                    z = next;
                    next = t;
                }
            } finally {
                if (keep == null) {
                    model.setLayer(original);
                }
                blockArena.close();
            }
            if (progress != null) {
                progress.block(l, layers, detail.toString());
            }
        }
    }
}
