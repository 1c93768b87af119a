package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BlockPipelineTest {
    static final float ACT_TOL = 1e-5f;

    /** Records each group's observed input; optionally zeroes the group's weights ("compression"). */
    static final class Recorder implements BlockMethod {
        final Map<String, List<float[]>> seen = new HashMap<>();
        final boolean zero;
        final Arena keep;
        final List<String> order = new ArrayList<>();

        Recorder(boolean zero, Arena keep) {
            this.zero = zero;
            this.keep = keep;
        }

        @Override
        public void observe(int layer, Group group, float[] x, int n, int dIn) {
            seen.computeIfAbsent(layer + "/" + group, k -> new ArrayList<>()).add(x.clone());
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
            LlamaModel model = LlamaModel.of(c, Synthetic.inMemory(c, DType.F32, 0.3, 5, arena));
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
            LlamaModel model = LlamaModel.of(c, Synthetic.inMemory(c, DType.F32, 0.3, 5, arena));
            Calibration cal = Calibration.fromTokens(TinyModels.tokens(40, c.vocabSize(), 2), "test", c, 2, 8, 1);
            Recorder seq = new Recorder(true, arena);
            new BlockPipeline(model, BlockPipeline.Options.defaults()).run(cal, seq);
            // With q/k/v zeroed, every query attends uniformly and v = 0, so o_proj's input is zero.
            for (float v : seq.seen.get("0/O").get(0)) assertEquals(0f, v);

            LlamaModel fresh = LlamaModel.of(c, Synthetic.inMemory(c, DType.F32, 0.3, 5, arena));
            Recorder dense = new Recorder(true, arena);
            new BlockPipeline(fresh, BlockPipeline.Options.defaults().withPropagation(BlockPipeline.Propagation.DENSE)).run(cal, dense);
            float max = 0;
            for (float v : dense.seen.get("0/O").get(0)) max = Math.max(max, Math.abs(v));
            assertTrue(max > 0, "dense statistics come from the original block");
            assertNotEquals(seq.seen.get("1/QKV").get(0)[0], dense.seen.get("1/QKV").get(0)[0]);
        }
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
