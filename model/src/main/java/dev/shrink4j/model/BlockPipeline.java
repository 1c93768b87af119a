package dev.shrink4j.model;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The block-by-block sequential pipeline of METHODS §1.2. Calibration sequences are embedded once
 * (Z₀, F32, one array per sequence); then for each block, inside its own (shared) arena:
 * <ol>
 *   <li>true-sequential (default): for each group [q,k,v] → [o] → [gate,up] → [down], run the block
 *       up to the group's input with the groups compressed so far, let the method observe it, and
 *       install the method's replacements before the next group's input is computed;</li>
 *   <li>otherwise (or with dense propagation) all group inputs come from one pass of the dense block;</li>
 *   <li>the block's output becomes the next block's input: computed with the compressed block
 *       (compressed propagation, default) or the original one (dense propagation).</li>
 * </ol>
 * A method that already holds a block's statistics ({@link BlockMethod#needsInputs} false, e.g. Hessians
 * from a cache) gets no observation forward for it; propagation stops after the last block that needs
 * inputs. Memory: the calibration activations (samples × T × hidden floats), one block's temporaries and
 * whatever the method keeps; weights stay memory-mapped.
 */
public final class BlockPipeline {
    /** How block outputs are propagated to the next block (METHODS §1.2 step 3). */
    public enum Propagation { COMPRESSED, DENSE }

    /**
     * @param trueSequential group-by-group inputs from the partly compressed block (METHODS §1.2.1);
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
    }

    private final LlamaModel model;
    private final Options options;
    private IntConsumer progress = l -> {};

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
     * Runs {@code method} over all blocks on the calibration sequences (all of one length). Blocks for
     * which {@link BlockMethod#needsInputs} is false get no observation forward; block outputs are only
     * propagated while a later block needs inputs, and the calibration is not embedded when none does
     * (then {@code calibration} may be null: a data-free method such as RTN).
     */
    public void run(Calibration calibration, BlockMethod method) {
        int layers = model.numLayers();
        boolean[] needs = new boolean[layers];
        int lastNeeding = -1;
        for (int b = 0; b < layers; b++) {
            needs[b] = processed(b) && method.needsInputs(b);
            if (needs[b]) lastNeeding = b;
        }
        if (calibration == null && lastNeeding >= 0) {
            throw new IllegalArgumentException("block " + lastNeeding + " needs calibration inputs, but no calibration was given");
        }
        int[][] seqs = lastNeeding >= 0 ? calibration.sequences() : new int[0][];
        int T = seqs.length > 0 ? seqs[0].length : 1;
        int d = model.config().hiddenSize();
        int perPass = Math.max(1, options.rowsPerPass() / T);
        // Z: one (T, hidden) array per sequence; chunks of sequences are concatenated per pass.
        List<float[]> z = new ArrayList<>(seqs.length);
        for (int[] s : seqs) {
            if (s.length != T) throw new IllegalArgumentException("calibration sequences differ in length");
            z.add(model.embed(s));
        }
        for (int b = 0; b < layers; b++) {
            Layer original = model.layer(b);
            if (processed(b)) {
                try (Arena arena = Arena.ofShared()) {
                    compressBlock(b, original, needs[b] ? z : List.of(), T, perPass, method, arena);
                    method.blockDone(b, model.layer(b), arena);
                }
            }
            if (b < lastNeeding) {
                Layer propagateWith = options.propagation() == Propagation.DENSE ? original : model.layer(b);
                for (int c0 = 0; c0 < z.size(); c0 += perPass) {
                    int batch = Math.min(perPass, z.size() - c0);
                    float[] x = concat(z, c0, batch, T * d);
                    float[] y = new float[x.length];
                    model.block().forward(propagateWith, x, batch, T, y, null, null, null);
                    for (int i = 0; i < batch; i++) System.arraycopy(y, i * T * d, z.get(c0 + i), 0, T * d);
                }
            }
            progress.accept(b);
        }
    }

    private boolean processed(int b) {
        return b >= options.firstLayer() && b <= options.lastLayer();
    }

    /** Observes and compresses block b group by group; {@code z} is empty when the block needs no inputs. */
    private void compressBlock(int b, Layer original, List<float[]> z, int T, int perPass, BlockMethod method, Arena arena) {
        List<Group> groups = new ArrayList<>();
        for (Group g : Group.values()) {
            if (!g.isAttention() || original.hasAttention()) groups.add(g);
        }
        int d = model.config().hiddenSize();
        boolean sequential = options.trueSequential() && options.propagation() == Propagation.COMPRESSED;
        if (!sequential) {
            for (int c0 = 0; c0 < z.size(); c0 += perPass) {
                int batch = Math.min(perPass, z.size() - c0);
                float[] x = concat(z, c0, batch, T * d);
                model.block().forward(original, x, batch, T, new float[x.length], null, method::observe, null);
            }
        }
        for (Group g : groups) {
            if (sequential) {
                Layer current = model.layer(b);
                for (int c0 = 0; c0 < z.size(); c0 += perPass) {
                    int batch = Math.min(perPass, z.size() - c0);
                    float[] x = concat(z, c0, batch, T * d);
                    model.block().forward(current, x, batch, T, null, null, (l, grp, in, n, dIn) -> {
                        if (grp == g) method.observe(l, grp, in, n, dIn);
                    }, g);
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

    private static float[] concat(List<float[]> z, int from, int count, int each) {
        if (count == 1) return z.get(from); // read-only in forward
        float[] x = new float[count * each];
        for (int i = 0; i < count; i++) System.arraycopy(z.get(from + i), 0, x, i * each, each);
        return x;
    }
}
