package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.DenseWeight;
import dev.shrink4j.tensors.formats.LowRank;
import dev.shrink4j.tensors.formats.LowRankColumnSparse;
import dev.shrink4j.tensors.formats.NmQuantized;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Quantizing a 2:4 or low-rank layer keeps its structure: the zero pattern and the factors stay, and on a
 * realistic Hessian GPTQ's layer objective is below RTN's (the point of feeding the error back).
 */
class ComposedQuantizerTest {
    private static final int D_OUT = 24;
    private static final int D_IN = 72; // 36 kept values per row: a ragged last group of 32
    /** GPTQ must beat RTN on the layer objective by at least this factor (it is ~2–5× in practice). */
    private static final double GPTQ_GAIN = 0.9;

    private static QuantizeOptions options(QuantMethod m) {
        return QuantizeOptions.defaults(m, 4).withGroupSize(32).withSymmetric(true);
    }

    private static NmSparse twoFour(Arena arena, Random rnd) {
        float[] w = Layers.weights(rnd, D_OUT, D_IN);
        for (int r = 0; r < D_OUT * D_IN / 4; r++) {
            int a = rnd.nextInt(4), b = (a + 1 + rnd.nextInt(3)) % 4; // prune two distinct positions of each run
            w[r * 4 + a] = 0;
            w[r * 4 + b] = 0;
        }
        return NmSparse.fromDense(arena, w, D_OUT, D_IN, 2, 4);
    }

    private static float[] dense(CompressedWeight w) {
        float[] d = new float[w.dOut() * w.dIn()];
        for (int j = 0; j < w.dOut(); j++) w.dequantizeRow(j, d, j * w.dIn());
        return d;
    }

    @Test
    void twoFourKeepsItsMaskAndGptqBeatsRtn() {
        Random rnd = new Random(3);
        try (Arena arena = Arena.ofConfined()) {
            NmSparse ns = twoFour(arena, rnd);
            double[][] hs = {Layers.realisticHessian(rnd, 256, D_IN)};
            float[] w = dense(ns);
            double[] objective = new double[2];
            int k = 0;
            for (QuantMethod m : new QuantMethod[] {QuantMethod.RTN, QuantMethod.GPTQ}) {
                LayerQuantizer.Outcome o = ComposedQuantizer.quantize(options(m), arena, "m", ns, hs);
                NmQuantized q = assertInstanceOf(NmQuantized.class, o.weight());
                assertEquals(32, q.values().groupSize());
                float[] wq = dense(q);
                int[] cols = new int[ns.keptPerRow()], qcols = new int[ns.keptPerRow()];
                float[] v = new float[ns.keptPerRow()];
                for (int j = 0; j < D_OUT; j++) {
                    ns.readRow(j, v, cols);
                    q.readColumns(j, qcols);
                    assertEquals(java.util.Arrays.toString(cols), java.util.Arrays.toString(qcols), "row " + j + " keeps its positions");
                }
                objective[k++] = LayerQuantizer.objective(w, wq, hs, D_OUT, D_IN);
            }
            assertTrue(objective[1] < GPTQ_GAIN * objective[0], "GPTQ " + objective[1] + " vs RTN " + objective[0]);
        }
    }

    @Test
    void lowRankFactorsAreQuantizedAndGptqBeatsRtn() {
        Random rnd = new Random(5);
        int r = 9;
        try (Arena arena = Arena.ofConfined()) {
            LowRank lr = new LowRank(DenseWeight.ofFloats(arena, r, D_IN, Layers.weights(rnd, r, D_IN)),
                    DenseWeight.ofFloats(arena, D_OUT, r, Layers.weights(rnd, D_OUT, r)));
            LowRankColumnSparse lost = LowRankColumnSparse.of(arena, lr, new int[] {1, 40}, new float[D_OUT * 2], DType.F16);
            double[][] hs = {Layers.realisticHessian(rnd, 256, D_IN)};
            float[] w = dense(lr);
            double[] objective = new double[2];
            int k = 0;
            for (QuantMethod m : new QuantMethod[] {QuantMethod.RTN, QuantMethod.GPTQ}) {
                LowRank q = assertInstanceOf(LowRank.class, ComposedQuantizer.quantize(options(m), arena, "m", lr, hs).weight());
                assertInstanceOf(UniformQuantized.class, q.a());
                assertEquals(r, q.rank());
                objective[k++] = LayerQuantizer.objective(w, dense(q), hs, D_OUT, D_IN);
                LowRankColumnSparse ql = assertInstanceOf(LowRankColumnSparse.class, ComposedQuantizer.quantize(options(m), arena, "m", lost, hs).weight());
                assertInstanceOf(UniformQuantized.class, ql.lowRank().b());
                assertEquals(2, ql.columns());
                assertInstanceOf(UniformQuantized.class, ql.colValues());
            }
            assertTrue(objective[1] < GPTQ_GAIN * objective[0], "GPTQ " + objective[1] + " vs RTN " + objective[0]);
        }
    }

    @Test
    void aCodebookMethodIsRefusedNamingTheModule() {
        try (Arena arena = Arena.ofConfined()) {
            NmSparse ns = twoFour(arena, new Random(1));
            ShrinkException e = assertThrows(ShrinkException.class,
                    () -> ComposedQuantizer.quantize(QuantizeOptions.defaults(QuantMethod.SQUEEZELLM, 4), arena, "model.layers.0.mlp.up_proj", ns, null));
            assertTrue(e.getMessage().contains("model.layers.0.mlp.up_proj is stored as nm"), e.getMessage());
        }
    }
}
