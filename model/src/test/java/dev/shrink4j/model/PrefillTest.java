package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.ActivationPrecision;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.CsrSparse;
import dev.shrink4j.tensors.formats.DenseAndSparse;
import dev.shrink4j.tensors.formats.DenseWeight;
import dev.shrink4j.tensors.formats.GgufBlockWeight;
import dev.shrink4j.tensors.formats.LowRank;
import dev.shrink4j.tensors.formats.LowRankColumnSparse;
import dev.shrink4j.tensors.formats.LutQuantized;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.formats.UniformQuantized;
import dev.shrink4j.tensors.gguf.GgufBlocks;
import dev.shrink4j.tensors.gguf.GgufType;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Batched prefill (the prompt as one sequence through the block's GEMM / format-matmul path, the KV
 * cache filled at once) against the reference that feeds the prompt token by token through the
 * decoding step: the last position's logits within {@link #LOGIT_TOL}, the same KV caches' effect on
 * every following token (identical greedy continuations), on the demo model and with every linear of
 * the demo in each compressed format.
 */
class PrefillTest {
    /**
     * Relative logit agreement: the batch runs matmuls and causal attention in another summation
     * order than the row-by-row matvec and cached attention (F32 rounding, ~1e-6 per op, over 5 blocks).
     */
    static final float LOGIT_TOL = 2e-4f;
    /**
     * With int8 activations the same ~1e-6 input differences can flip an activation's int8 rounding
     * (a step of d/2 = max|x|/254 in one term), so the logits agree to the size of such flips, not to
     * F32 rounding; measured 3.2e-3 of the largest logit on the demo (int8 weights).
     */
    static final float INT8_LOGIT_TOL = 5e-3f;
    static final int PROMPT = 24;
    static final int GENERATED = 8;

    static Arena arena;
    static LlamaModel demo;
    static int[] prompt;

    @BeforeAll
    static void load() {
        arena = Arena.ofShared();
        demo = LlamaModel.load(TestData.demoModel(), arena);
        prompt = new int[PROMPT];
        prompt[0] = demo.config().bosTokenId();
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 1; i < PROMPT; i++) prompt[i] = 3 + r.nextInt(demo.config().vocabSize() - 3);
    }

    @AfterAll
    static void close() {
        arena.close();
    }

    /** Builds a weight in one format from a dense F32 (d_out·d_in); null where the format cannot hold that shape. */
    @FunctionalInterface
    interface Format {
        CompressedWeight build(float[] w, int dOut, int dIn);
    }

    @TestFactory
    List<DynamicTest> prefillMatchesTokenByToken() {
        return List.of(
                DynamicTest.dynamicTest("dense", () -> check(demo, LOGIT_TOL)),
                format("f32 dense weight", (w, o, i) -> DenseWeight.ofFloats(arena, o, i, w)),
                format("uniform int4 g32 sym", (w, o, i) -> UniformQuantized.rtn(arena, w, o, i, 4, 32, true)),
                format("uniform int4 g32 sym, int8 activations", (w, o, i) -> UniformQuantized.rtn(arena, w, o, i, 4, 32, true), ActivationPrecision.INT8),
                format("uniform int8 g32 asym, int8 activations", (w, o, i) -> UniformQuantized.rtn(arena, w, o, i, 8, 32, false), ActivationPrecision.INT8),
                format("uniform int3 g16 asym", (w, o, i) -> UniformQuantized.rtn(arena, w, o, i, 3, 16, false)),
                format("uniform int8 per-row", (w, o, i) -> UniformQuantized.rtn(arena, w, o, i, 8, i, false)),
                format("uniform int4 act-order", PrefillTest::actOrder),
                format("lut3", PrefillTest::lut),
                format("csr 30%", (w, o, i) -> CsrSparse.fromDense(arena, keep(w, 0.3, 7), o, i)),
                format("int4 + csr", (w, o, i) -> new DenseAndSparse(UniformQuantized.rtn(arena, w, o, i, 4, 32, false), CsrSparse.fromDense(arena, keep(w, 0.02, 8), o, i))),
                format("nm 2:4", (w, o, i) -> NmSparse.fromDense(arena, twoOfFour(w), o, i, 2, 4)),
                format("low rank", PrefillTest::lowRank),
                format("low rank + columns", (w, o, i) -> LowRankColumnSparse.of(arena, lowRank(w, o, i), new int[] {0, 5, 9}, new float[o * 3], DType.F32)),
                format("gguf q4_0", (w, o, i) -> gguf(GgufType.Q4_0, w, o, i)),
                format("gguf q8_0", (w, o, i) -> gguf(GgufType.Q8_0, w, o, i)));
    }

    private static DynamicTest format(String name, Format f) {
        return format(name, f, ActivationPrecision.F32);
    }

    private static DynamicTest format(String name, Format f, ActivationPrecision activations) {
        return DynamicTest.dynamicTest(name, () -> {
            LlamaModel m = LlamaModel.load(TestData.demoModel(), arena);
            int replaced = 0;
            for (int l = 0; l < m.numLayers(); l++) {
                Layer layer = m.layer(l);
                for (Proj p : Proj.values()) {
                    Linear lin = layer.linear(p);
                    if (lin == null) continue;
                    float[] w = lin.weight(arena).toFloatArray();
                    CompressedWeight cw = f.build(w, lin.outFeatures(), lin.inFeatures());
                    if (cw == null) continue;
                    layer = layer.with(p, new CompressedLinear(cw, null));
                    replaced++;
                }
                m.setLayer(layer);
            }
            assertTrue(replaced > 0, name + " replaced no linear");
            if (activations == ActivationPrecision.INT8) assertEquals(replaced, m.setActivations(activations), "linears on int8 activations");
            check(m, activations == ActivationPrecision.INT8 ? INT8_LOGIT_TOL : LOGIT_TOL);
        });
    }

    private static void check(LlamaModel m, float tol) {
        float[] batch = new Generator(m).promptLogits(prompt);
        float[] tokens = new Generator(m, true).promptLogits(prompt);
        assertEquals(m.config().vocabSize(), batch.length);
        float scale = 0;
        for (float t : tokens) scale = Math.max(scale, Math.abs(t));
        for (int i = 0; i < batch.length; i++) {
            assertEquals(tokens[i], batch[i], tol * (1 + scale), "logit " + i);
        }
        int[] a = new Generator(m).generate(prompt, GENERATED, Sampler.greedy(), null);
        int[] b = new Generator(m, true).generate(prompt, GENERATED, Sampler.greedy(), null);
        assertArrayEquals(b, a);
    }

    private static float[] keep(float[] w, double frac, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] s = new float[w.length];
        for (int i = 0; i < w.length; i++) if (r.nextDouble() < frac) s[i] = w[i];
        return s;
    }

    /** w with the two smaller magnitudes of every run of four zeroed. */
    private static float[] twoOfFour(float[] w) {
        float[] s = w.clone();
        for (int r = 0; r + 4 <= s.length; r += 4) {
            for (int drop = 0; drop < 2; drop++) {
                int best = -1;
                for (int i = r; i < r + 4; i++) if (s[i] != 0 && (best < 0 || Math.abs(s[i]) < Math.abs(s[best]))) best = i;
                if (best >= 0) s[best] = 0;
            }
        }
        return s;
    }

    private static CompressedWeight actOrder(float[] w, int dOut, int dIn) {
        int gs = 16, ng = (dIn + gs - 1) / gs;
        int[] gIdx = new int[dIn];
        for (int i = 0; i < dIn; i++) gIdx[i] = (i * 7) % ng;
        UniformQuantized base = UniformQuantized.rtn(arena, w, dOut, dIn, 4, gs, false);
        int[] codes = new int[dOut * dIn];
        float[] scales = new float[dOut * ng];
        int[] zeros = new int[dOut * ng];
        for (int j = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) codes[j * dIn + i] = base.code(j, i);
            for (int g = 0; g < ng; g++) {
                scales[j * ng + g] = base.scale(j, g);
                zeros[j * ng + g] = base.zero(j, g);
            }
        }
        return UniformQuantized.of(arena, dOut, dIn, 4, gs, codes, scales, zeros, gIdx);
    }

    private static CompressedWeight lut(float[] w, int dOut, int dIn) {
        int bits = 3, k = 1 << bits;
        float max = 0;
        for (float v : w) max = Math.max(max, Math.abs(v));
        float[] book = new float[dOut * k];
        int[] codes = new int[dOut * dIn];
        for (int j = 0; j < dOut; j++) {
            for (int c = 0; c < k; c++) book[j * k + c] = max * (2f * c / (k - 1) - 1);
            for (int i = 0; i < dIn; i++) {
                int c = Math.round((w[j * dIn + i] / max + 1) * (k - 1) / 2f);
                codes[j * dIn + i] = Math.max(0, Math.min(k - 1, c));
            }
        }
        return LutQuantized.of(arena, dOut, dIn, bits, dIn, codes, book);
    }

    /** A rank-4 factorization of w: W ≈ A·B with A = W·Bᵀ (d_out, 4) and B a fixed Gaussian (4, d_in); LowRank names them (b, a). */
    private static LowRank lowRank(float[] w, int dOut, int dIn) {
        int r = 4;
        SplittableRandom g = new SplittableRandom(11);
        float[] b = new float[r * dIn];
        for (int i = 0; i < b.length; i++) b[i] = (float) (g.nextGaussian() / Math.sqrt(dIn));
        float[] a = new float[dOut * r];
        for (int j = 0; j < dOut; j++) {
            for (int k = 0; k < r; k++) {
                float s = 0;
                for (int i = 0; i < dIn; i++) s += w[j * dIn + i] * b[k * dIn + i];
                a[j * r + k] = s;
            }
        }
        return new LowRank(DenseWeight.ofFloats(arena, r, dIn, b), DenseWeight.ofFloats(arena, dOut, r, a)); // y = A·(B·x) in our names
    }

    private static CompressedWeight gguf(GgufType type, float[] w, int dOut, int dIn) {
        if (dIn % type.blockSize != 0) return null; // down_proj (172 wide) stays dense
        Tensor t = Tensor.allocate(arena, DType.U8, Shape.matrix(dOut, type.bytes(dIn)));
        for (int j = 0; j < dOut; j++) GgufBlocks.quantize(type, w, j * dIn, dIn, t.segment(), j * type.bytes(dIn));
        return new GgufBlockWeight(type, dOut, dIn, t.segment());
    }
}
