package dev.shrink4j.model;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The block-by-block sequential pipeline of docs/methods/pipeline.md §1–§2. Calibration sequences are embedded once,
 * one at a time, into an off-heap {@link Activations} store (Z₀, F32, long offsets: samples × T × hidden
 * may pass 2³¹ floats); then for each block, inside its own (shared) arena:
 * <ol>
 *   <li>true-sequential (default): for each group [q,k,v] → [o] → [gate,up] → [down], run the block
 *       up to the group's input with the groups compressed so far, let the method observe it, and
 *       install the method's replacements before the next group's input is computed;</li>
 *   <li>otherwise (or with dense propagation) all group inputs come from one pass of the dense block;</li>
 *   <li>the block's output becomes the next block's input: computed with the compressed block
 *       (compressed propagation, default) or the original one (dense propagation), pass by pass,
 *       overwriting Z in place;</li>
 *   <li>{@link BlockMethod#blockDone}, then the block arena closes: replacements allocated in it are
 *       valid through propagation.</li>
 * </ol>
 * A method that already holds a block's statistics ({@link BlockMethod#needsInputs} false, e.g. Hessians
 * from a cache) gets no observation forward for it; propagation stops after the last block that needs
 * inputs. Memory: the calibration activations (samples × T × hidden floats, off-heap), two heap arrays of
 * one pass (rowsPerPass × hidden), one block's temporaries and whatever the method keeps; weights stay
 * memory-mapped.
 */
public final class BlockPipeline {
    /** How block outputs are propagated to the next block (docs/methods/pipeline.md §2). */
    public enum Propagation { COMPRESSED, DENSE }

    /**
     * @param trueSequential group-by-group inputs from the partly compressed block (docs/methods/pipeline.md §2.1);
     *                       false reproduces the Wanda/SparseGPT reference (one dense pass per block)
     * @param rowsPerPass    calibration tokens per forward call (sequences are batched up to this)
     * @param layers         block indices to process in [first, last], others only propagate
     */
    public record Options(boolean trueSequential, Propagation propagation, int rowsPerPass, int firstLayer, int lastLayer) {
        public static Options defaults() {
            return new Options(true, Propagation.COMPRESSED, 2048, 0, Integer.MAX_VALUE);
        }

        public Options withTrueSequential(boolean t) {
            return new Options(t, propagation, rowsPerPass, firstLayer, lastLayer);
        }

        public Options withPropagation(Propagation p) {
            return new Options(trueSequential, p, rowsPerPass, firstLayer, lastLayer);
        }

        public Options withLayers(int first, int last) {
            return new Options(trueSequential, propagation, rowsPerPass, first, last);
        }

        public Options withRowsPerPass(int rows) {
            return new Options(trueSequential, propagation, rows, firstLayer, lastLayer);
        }
    }

    private final LlamaModel model;
    private final Options options;
    private IntConsumer progress = l -> {};
    private BlockCheckpoint checkpoint; // null: nothing stored, nothing resumed

    public BlockPipeline(LlamaModel model, Options options) {
        this.model = model;
        this.options = options;
    }

    /** Called with each block index when the block is done (progress reporting). */
    public BlockPipeline onBlockDone(IntConsumer progress) {
        this.progress = progress;
        return this;
    }

    /**
     * Resume (docs/reliability.md "Resume"): every compressed block is stored in {@code checkpoint} before
     * its output is propagated, and the blocks an interrupted run finished are not compressed again: their
     * stored replacements are installed ({@link BlockMethod#restored}) and the calibration is propagated
     * through them as through a freshly compressed block, so the first unfinished block gets the inputs it
     * had (recomputed, not stored: a forward per finished block instead of samples × T × hidden floats per
     * block on disk).
     */
    public BlockPipeline withCheckpoint(BlockCheckpoint checkpoint) {
        this.checkpoint = checkpoint;
        return this;
    }

    /**
     * Runs {@code method} over all blocks on the calibration sequences (all of one length). Blocks for
     * which {@link BlockMethod#needsInputs} is false get no observation forward; block outputs are only
     * propagated while a later block needs inputs, and the calibration is not embedded when none does
     * (then {@code calibration} may be null: a data-free method such as RTN).
     */
    public void run(Calibration calibration, BlockMethod method) {
        int layers = model.numLayers();
        int finished = checkpoint == null ? 0 : checkpoint.finishedBlocks(layers);
        boolean[] needs = new boolean[layers];
        int lastNeeding = -1;
        for (int b = 0; b < layers; b++) {
            needs[b] = processed(b) && b >= finished && method.needsInputs(b);
            if (needs[b]) lastNeeding = b;
        }
        if (calibration == null && lastNeeding >= 0) {
            throw new IllegalArgumentException("block " + lastNeeding + " needs calibration inputs, but no calibration was given");
        }
        if (finished > 0) {
            checkpoint.note(finished, layers, lastNeeding >= finished);
        }
        int[][] seqs = lastNeeding >= 0 ? calibration.sequences() : new int[0][];
        int T = seqs.length > 0 ? seqs[0].length : 1;
        Activations.Layout layout = new Activations.Layout(seqs.length, T, model.config().hiddenSize());
        Passes passes = new Passes(layout, Math.max(1, options.rowsPerPass() / T));
        // Z (sequences, T, hidden) lives off-heap for the whole run; each block reads and overwrites it pass by pass.
        try (Arena zArena = Arena.ofConfined()) {
            Activations z = Activations.allocate(zArena, layout);
            z.embed(model, seqs);
            for (int b = 0; b < layers; b++) {
                Layer original = model.layer(b);
                boolean processed = processed(b);
                // The block arena stays open until the block's output has been propagated, so replacements
                // may live in it as long as the method puts back what the model should keep (blockDone).
                try (Arena arena = processed ? Arena.ofShared() : null) {
                    if (processed && b < finished) {
                        restoreBlock(b, original, method, arena);
                    } else if (processed) {
                        compressBlock(b, original, needs[b] ? z : null, passes, method, arena);
                        if (checkpoint != null) checkpoint.write(b, original, model.layer(b), method.blockRecord(b));
                    }
                    if (b < lastNeeding) {
                        Layer propagateWith = options.propagation() == Propagation.DENSE ? original : model.layer(b);
                        for (int s0 = 0; s0 < layout.sequences(); s0 += passes.perPass()) {
                            int batch = passes.batch(s0);
                            float[] x = passes.read(z, s0);
                            float[] y = passes.out(batch);
                            model.block().forward(propagateWith, x, batch, T, y, TransformerBlock.Forward.PLAIN);
                            z.write(s0, batch, y);
                        }
                    }
                    if (processed) method.blockDone(b, model.layer(b), arena);
                }
                progress.accept(b);
            }
        }
    }

    /**
     * Sequences per forward pass and the pass's heap arrays, reused from pass to pass; a shorter last
     * pass gets arrays of its own size.
     */
    private static final class Passes {
        private final Activations.Layout layout;
        private final int perPass;
        private final float[] x; // (perPass·T, hidden), or fewer sequences when the calibration is smaller
        private final float[] y; // likewise

        Passes(Activations.Layout layout, int perPass) {
            this.layout = layout;
            this.perPass = perPass;
            int full = layout.passFloats(Math.min(perPass, layout.sequences()));
            this.x = new float[full];
            this.y = new float[full];
        }

        Activations.Layout layout() {
            return layout;
        }

        int perPass() {
            return perPass;
        }

        int batch(int s0) {
            return Math.min(perPass, layout.sequences() - s0);
        }

        /** Sequences [s0, s0 + batch) copied from {@code z}, (batch·T, hidden). */
        float[] read(Activations z, int s0) {
            int batch = batch(s0);
            float[] a = layout.passFloats(batch) == x.length ? x : new float[layout.passFloats(batch)];
            z.read(s0, batch, a);
            return a;
        }

        /** An output array (batch·T, hidden). */
        float[] out(int batch) {
            return layout.passFloats(batch) == y.length ? y : new float[layout.passFloats(batch)];
        }
    }

    /** Installs block b's stored replacements and tells the method (resume). */
    private void restoreBlock(int b, Layer original, BlockMethod method, Arena arena) {
        BlockCheckpoint.Restored r = checkpoint.read(b, method.restoreArena(b, original, arena));
        Layer updated = original;
        for (Map.Entry<Proj, Linear> e : r.linears().entrySet()) updated = updated.with(e.getKey(), e.getValue());
        model.setLayer(updated);
        method.restored(b, original, r.linears(), r.record());
    }

    private boolean processed(int b) {
        return b >= options.firstLayer() && b <= options.lastLayer();
    }

    /** Observes and compresses block b group by group; {@code z} is null when the block needs no inputs. */
    private void compressBlock(int b, Layer original, Activations z, Passes passes, BlockMethod method, Arena arena) {
        List<Group> groups = new ArrayList<>();
        for (Group g : Group.values()) {
            if (!g.isAttention() || original.hasAttention()) groups.add(g);
        }
        int sequences = z == null ? 0 : z.layout().sequences();
        int T = passes.layout().seqLen();
        boolean sequential = options.trueSequential() && options.propagation() == Propagation.COMPRESSED;
        if (!sequential) {
            TransformerBlock.Forward observe = TransformerBlock.Forward.PLAIN.withObserver(method::observe);
            for (int s0 = 0; s0 < sequences; s0 += passes.perPass()) {
                int batch = passes.batch(s0);
                model.block().forward(original, passes.read(z, s0), batch, T, passes.out(batch), observe);
            }
        }
        for (Group g : groups) {
            if (sequential) {
                Layer current = model.layer(b);
                TransformerBlock.Forward upToGroup = TransformerBlock.Forward.PLAIN.withObserver((l, grp, in, n, dIn) -> {
                    if (grp == g) method.observe(l, grp, in, n, dIn);
                }).stoppingAfter(g);
                for (int s0 = 0; s0 < sequences; s0 += passes.perPass()) {
                    model.block().forward(current, passes.read(z, s0), passes.batch(s0), T, null, upToGroup);
                }
            }
            Map<Proj, Linear> replacements = method.compress(b, g, model.layer(b), arena);
            Layer updated = model.layer(b);
            for (Map.Entry<Proj, Linear> e : replacements.entrySet()) {
                if (e.getKey().group() != g) {
                    throw new IllegalStateException("method replaced " + e.getKey() + " while compressing group " + g);
                }
                updated = updated.with(e.getKey(), e.getValue());
            }
            model.setLayer(updated);
        }
    }
}
