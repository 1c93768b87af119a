package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.testing.CountingLinear;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BlockPipelineTest {
    static final float ACT_TOL = 1e-5f;

    /** Records each group's observed input; optionally zeroes the group's weights ("compression"). */
    static class Recorder implements BlockMethod {
        final Map<String, List<float[]>> seen = new HashMap<>();
        final boolean zero;
        final Arena keep;
        final List<String> order = new ArrayList<>();
        java.util.function.IntPredicate needs = layer -> true;

        Recorder(boolean zero, Arena keep) {
            this.zero = zero;
            this.keep = keep;
        }

        @Override
        public void observe(int layer, Group group, float[] x, int n, int dIn) {
            seen.computeIfAbsent(layer + "/" + group, k -> new ArrayList<>()).add(x.clone());
        }

        @Override
        public boolean needsInputs(int layer) {
            return needs.test(layer);
        }

        @Override
        public Map<Proj, Linear> compress(int layer, Group group, Layer current, Arena arena) {
            order.add(layer + "/" + group);
            Map<Proj, Linear> out = new EnumMap<>(Proj.class);
            if (zero && group == Group.QKV) {
                for (Proj p : group.members()) {
                    Linear l = current.linear(p);
                    out.put(p, new DenseLinear(Tensor.allocate(keep, DType.F32, Shape.of(l.outFeatures(), l.inFeatures())), l.bias()));
                }
            }
            return out;
        }
    }

    @Test
    void observedInputsAreTheDenseActivationsWhenNothingChanges() {
        ModelConfig c = ModelConfig.parse(TinyModels.config("LlamaForCausalLM"), "tiny");
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = tinyModel(c, arena);
            int[] seq = TinyModels.tokens(12, c.vocabSize(), 1);
            Calibration cal = Calibration.fromTokens(seq, "test", c, 3, 6, 42);
            assertEquals(3, cal.sequences().length);
            assertEquals(1, cal.sequences()[0][0]);
            Recorder r = new Recorder(false, arena);
            new BlockPipeline(model, BlockPipeline.Options.defaults()).run(cal, r);
            assertEquals(List.of("0/QKV", "0/O", "0/GATE_UP", "0/DOWN", "1/QKV", "1/O", "1/GATE_UP", "1/DOWN"), r.order);
            // Layer-1 q/k/v input = RMSNorm(block-0 output) of the dense model.
            int d = c.hiddenSize();
            int[] flat = new int[18];
            for (int s = 0; s < 3; s++) System.arraycopy(cal.sequences()[s], 0, flat, s * 6, 6);
            float[] x = model.embed(flat);
            float[] y = new float[x.length];
            model.forwardLayer(0, x, 3, 6, y, null);
            float[][] captured = new float[1][];
            model.groupInput(1, y, 3, 6, Group.QKV, (l, g, in, n, dIn) -> captured[0] = in.clone());
            assertArrayEquals(captured[0], r.seen.get("1/QKV").get(0), ACT_TOL);
            assertEquals(18 * d, captured[0].length);
        }
    }

    @Test
    void trueSequentialGroupsSeeEarlierReplacements() {
        ModelConfig c = ModelConfig.parse(TinyModels.config("LlamaForCausalLM"), "tiny");
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = tinyModel(c, arena);
            Calibration cal = Calibration.fromTokens(TinyModels.tokens(40, c.vocabSize(), 2), "test", c, 2, 8, 1);
            Recorder seq = new Recorder(true, arena);
            new BlockPipeline(model, BlockPipeline.Options.defaults()).run(cal, seq);
            // With q/k/v zeroed, every query attends uniformly and v = 0, so o_proj's input is zero.
            for (float v : seq.seen.get("0/O").get(0)) assertEquals(0f, v);

            LlamaModel fresh = tinyModel(c, arena);
            Recorder dense = new Recorder(true, arena);
            new BlockPipeline(fresh, BlockPipeline.Options.defaults().withPropagation(BlockPipeline.Propagation.DENSE)).run(cal, dense);
            float max = 0;
            for (float v : dense.seen.get("0/O").get(0)) max = Math.max(max, Math.abs(v));
            assertTrue(max > 0, "dense statistics come from the original block");
            assertNotEquals(seq.seen.get("1/QKV").get(0)[0], dense.seen.get("1/QKV").get(0)[0]);
        }
    }

    /** A 4-block tiny model whose down_proj counts the block forwards per block. */
    private static AtomicInteger[] countForwards(LlamaModel model) {
        AtomicInteger[] counts = new AtomicInteger[model.numLayers()];
        for (int b = 0; b < counts.length; b++) {
            counts[b] = new AtomicInteger();
            model.setLayer(model.layer(b).with(Proj.DOWN, new CountingLinear(model.layer(b).linear(Proj.DOWN), counts[b])));
        }
        return counts;
    }

    /** The tiny Llama of {@link TinyModels} with {@code layers} blocks. */
    private static ModelConfig tinyConfig(int layers) {
        var json = TinyModels.config("LlamaForCausalLM");
        json.put("num_hidden_layers", layers);
        return ModelConfig.parse(json, "tiny");
    }

    /** The same synthetic F32 weights every time (seed 5), so models built apart compute the same. */
    private static LlamaModel tinyModel(ModelConfig c, Arena arena) {
        return LlamaModel.of(c, Synthetic.inMemory(c, DType.F32, 0.3, 5, arena));
    }

    private static int[] counts(AtomicInteger[] c) {
        int[] out = new int[c.length];
        for (int i = 0; i < c.length; i++) out[i] = c[i].get();
        return out;
    }

    @Test
    void blocksThatNeedNoInputsGetNoForwardAndPropagationStopsAfterTheLastThatDoes() {
        ModelConfig c = tinyConfig(4);
        try (Arena arena = Arena.ofShared()) {
            Calibration cal = Calibration.fromTokens(TinyModels.tokens(60, c.vocabSize(), 3), "test", c, 3, 8, 1);
            BlockPipeline.Options dense = BlockPipeline.Options.defaults().withPropagation(BlockPipeline.Propagation.DENSE);

            LlamaModel all = tinyModel(c, arena);
            AtomicInteger[] allCounts = countForwards(all);
            Recorder full = new Recorder(false, arena);
            new BlockPipeline(all, dense).run(cal, full);
            // One observation forward per block, one propagation forward for each block that has a successor.
            assertArrayEquals(new int[] {2, 2, 2, 1}, counts(allCounts));

            LlamaModel some = tinyModel(c, arena);
            AtomicInteger[] someCounts = countForwards(some);
            Recorder onlyBlock1 = new Recorder(false, arena);
            onlyBlock1.needs = layer -> layer == 1;
            new BlockPipeline(some, dense).run(cal, onlyBlock1);
            assertArrayEquals(new int[] {1, 1, 0, 0}, counts(someCounts), "block 0 only propagates, block 1 only observes");
            assertEquals(full.order, onlyBlock1.order, "every group is still compressed");
            assertEquals(java.util.Set.of("1/QKV", "1/O", "1/GATE_UP", "1/DOWN"), onlyBlock1.seen.keySet());
            for (String k : onlyBlock1.seen.keySet()) assertArrayEquals(full.seen.get(k).get(0), onlyBlock1.seen.get(k).get(0), k);

            LlamaModel none = tinyModel(c, arena);
            AtomicInteger[] noneCounts = countForwards(none);
            Recorder nothing = new Recorder(false, arena);
            nothing.needs = layer -> false;
            new BlockPipeline(none, dense).run(cal, nothing);
            assertArrayEquals(new int[4], counts(noneCounts));
            assertTrue(nothing.seen.isEmpty());
            assertEquals(full.order, nothing.order);

            // A method that needs no inputs needs no calibration at all (data-free, e.g. RTN) ...
            Recorder dataFree = new Recorder(false, arena);
            dataFree.needs = layer -> false;
            new BlockPipeline(none, dense).run(null, dataFree);
            assertArrayEquals(new int[4], counts(noneCounts));
            assertEquals(full.order, dataFree.order);
            // ... and one that does is told so.
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> new BlockPipeline(none, dense).run(null, new Recorder(false, arena)));
            assertTrue(e.getMessage().contains("needs calibration inputs"), e.getMessage());
        }
    }

    @Test
    void compressedPropagationSkipsOnlyTheObservationOfBlocksThatNeedNoInputs() {
        ModelConfig c = tinyConfig(3);
        try (Arena arena = Arena.ofShared()) {
            Calibration cal = Calibration.fromTokens(TinyModels.tokens(60, c.vocabSize(), 3), "test", c, 2, 8, 1);
            LlamaModel all = tinyModel(c, arena);
            AtomicInteger[] allCounts = countForwards(all);
            Recorder full = new Recorder(true, arena);
            new BlockPipeline(all, BlockPipeline.Options.defaults()).run(cal, full);
            // True-sequential forwards stop at the group's input, so down_proj runs in propagation only.
            assertArrayEquals(new int[] {1, 1, 0}, counts(allCounts));

            LlamaModel skip = tinyModel(c, arena);
            countForwards(skip);
            Recorder not0 = new Recorder(true, arena);
            not0.needs = layer -> layer != 0;
            new BlockPipeline(skip, BlockPipeline.Options.defaults()).run(cal, not0);
            assertFalse(not0.seen.containsKey("0/QKV"));
            // Block 1 sees the output of the compressed block 0 either way.
            for (String k : List.of("1/QKV", "1/O", "1/GATE_UP", "1/DOWN", "2/QKV")) {
                assertArrayEquals(full.seen.get(k).get(0), not0.seen.get(k).get(0), k);
            }
        }
    }

    /** Rounds every weight to a multiple of 1/16 (a stand-in compression) into {@code keep}. */
    static final class Rounding implements BlockMethod {
        final java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        final java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        final Arena keep;

        Rounding(Arena keep) {
            this.keep = keep;
        }

        @Override
        public void observe(int layer, Group group, float[] x, int n, int dIn) {
            crc.update((layer + "/" + group + "/" + n + "x" + dIn).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            for (int i = 0; i < n * dIn; i++) crc.update(buf.clear().putFloat(x[i]).array());
        }

        @Override
        public Map<Proj, Linear> compress(int layer, Group group, Layer current, Arena arena) {
            Map<Proj, Linear> out = new EnumMap<>(Proj.class);
            for (Proj p : group.members()) {
                Linear l = current.linear(p);
                float[] w = l.weight(arena).toFloatArray();
                for (int i = 0; i < w.length; i++) w[i] = Math.round(w[i] * 16) / 16f;
                out.put(p, new DenseLinear(Tensor.ofFloats(keep, Shape.of(l.outFeatures(), l.inFeatures()), w), l.bias()));
            }
            return out;
        }
    }

    /** CRC-32 of every observed group input on the demo model, in order, under {@code options}. */
    static long observedCrc(BlockPipeline.Options options, int samples) {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(dev.shrink4j.tensors.testing.TestData.demoModel(), arena);
            Calibration cal = Calibration.random(model.config(), samples, 32, 7);
            Rounding r = new Rounding(arena);
            new BlockPipeline(model, options).run(cal, r);
            return r.crc.getValue();
        }
    }

    /**
     * Replacements allocated in the block arena are still valid while the block's output is
     * propagated (the arena closes after blockDone), so a method need not keep them elsewhere.
     */
    @Test
    void replacementsInTheBlockArenaArePropagatedBeforeItCloses() {
        ModelConfig c = tinyConfig(3);
        try (Arena arena = Arena.ofShared()) {
            Calibration cal = Calibration.fromTokens(TinyModels.tokens(60, c.vocabSize(), 3), "test", c, 2, 8, 1);
            Recorder kept = new Recorder(true, arena);
            new BlockPipeline(tinyModel(c, arena), BlockPipeline.Options.defaults()).run(cal, kept);

            LlamaModel model = tinyModel(c, arena);
            Layer[] originals = new Layer[c.numLayers()];
            for (int b = 0; b < originals.length; b++) originals[b] = model.layer(b);
            boolean[] restored = new boolean[originals.length];
            Recorder scoped = new Recorder(true, null) {
                @Override
                public Map<Proj, Linear> compress(int layer, Group group, Layer current, Arena blockArena) {
                    Map<Proj, Linear> out = new EnumMap<>(Proj.class);
                    if (group == Group.QKV) {
                        for (Proj p : group.members()) {
                            Linear l = current.linear(p);
                            out.put(p, new DenseLinear(Tensor.allocate(blockArena, DType.F32, Shape.of(l.outFeatures(), l.inFeatures())), l.bias()));
                        }
                    }
                    return out;
                }

                @Override
                public void blockDone(int layer, Layer compressed, Arena blockArena) {
                    assertTrue(blockArena.scope().isAlive());
                    model.setLayer(originals[layer]);
                    restored[layer] = true;
                }
            };
            new BlockPipeline(model, BlockPipeline.Options.defaults()).run(cal, scoped);
            assertArrayEquals(new boolean[] {true, true, true}, restored);
            for (String k : List.of("1/QKV", "2/QKV", "2/DOWN")) {
                assertArrayEquals(kept.seen.get(k).get(0), scoped.seen.get(k).get(0), k + " comes from the compressed previous block");
            }
        }
    }

    /**
     * CRCs of every observed input on the demo model, recorded with the pipeline as it was before the
     * activations moved off-heap (one float[] per sequence, commit aa406ba). 70 windows of 32 tokens
     * make two passes of 64 and 6 sequences, so pass boundaries and the short last pass are covered.
     */
    @Test
    void offHeapActivationsReproduceThePreviousPipelineBitForBit() {
        BlockPipeline.Options d = BlockPipeline.Options.defaults();
        assertEquals(0x4828144bL, observedCrc(d, 70), "true-sequential, compressed propagation");
        assertEquals(0x40796db5L, observedCrc(d.withPropagation(BlockPipeline.Propagation.DENSE), 70), "dense propagation");
        assertEquals(0x680df0cL, observedCrc(d.withTrueSequential(false), 3), "one dense pass per block");
    }

    @Test
    void inputStatisticsAccumulateXtXOverChunks() {
        float[] x = {1, 2, 3, 4, 5, 6}; // (3, 2)
        InputStatistics s = new InputStatistics(2);
        s.add(x, 2);
        s.add(new float[] {5, 6}, 1);
        double[] h = s.hessian();
        assertArrayEquals(new double[] {35 / 3.0, 44 / 3.0, 44 / 3.0, 56 / 3.0}, h, 1e-9);
        assertArrayEquals(new double[] {35, 56}, s.channelSquaredNorms(), 1e-9);
        InputStatistics w = new InputStatistics(2);
        w.add(x, 3, new float[] {1, 0, 2});
        assertArrayEquals(new double[] {51 / 3.0, 62 / 3.0, 62 / 3.0, 76 / 3.0}, w.hessian(), 1e-5);
    }
}
