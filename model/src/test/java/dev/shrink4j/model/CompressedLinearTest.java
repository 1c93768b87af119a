package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.ActivationPrecision;
import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.Int8Activations;
import dev.shrink4j.tensors.formats.ScalarInt8Uniform;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A checkpoint whose config names a compressed linear runs through the format's own matmul. */
class CompressedLinearTest {
    /** The format's matmul and a dense product over its dequantized rows sum in different orders. */
    static final float TOL = 1e-4f;

    @Test
    void uniformQuantizedDownProjMatchesItsDequantizedDenseTwin() {
        Map<String, Object> json = TinyModels.config("LlamaForCausalLM");
        ModelConfig dense = ModelConfig.parse(json, "tiny");
        String module = Proj.DOWN.module(0);
        try (Arena arena = Arena.ofShared()) {
            WeightSource base = Synthetic.inMemory(dense, DType.F32, 0.3, 9, arena);
            Tensor w = base.tensor(module + ".weight");
            int dOut = (int) w.shape().dim(0);
            int dIn = (int) w.shape().dim(1);
            UniformQuantized q = UniformQuantized.rtn(arena, w.toFloatArray(), dOut, dIn, 4, 8, false);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (String n : base.names()) if (!n.equals(module + ".weight")) tensors.put(n, base.tensor(n));
            tensors.putAll(q.toTensors(module));
            Map<String, Object> cjson = new LinkedHashMap<>(json);
            cjson.put("shrink4j", Map.of("tensors", Map.of(module, q.descriptor())));
            ModelConfig cc = ModelConfig.parse(cjson, "tiny-q");
            LlamaModel compressed = LlamaModel.of(cc, mapSource(tensors));
            assertTrue(compressed.layer(0).linear(Proj.DOWN) instanceof CompressedLinear);

            LlamaModel twin = LlamaModel.of(dense, base);
            Tensor deq = compressed.layer(0).linear(Proj.DOWN).weight(arena);
            twin.setLayer(twin.layer(0).with(Proj.DOWN, new DenseLinear(deq, null)));
            int[] tokens = TinyModels.tokens(37, dense.vocabSize(), 4);
            float[] a = compressed.logits(tokens);
            float[] b = twin.logits(tokens);
            for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], TOL * (1 + Math.abs(b[i])), "logit " + i);
            assertEquals(new Backprop(twin).loss(tokens, 1), new Backprop(compressed).loss(tokens, 1), 1e-4);

            float[] dy = new float[5 * dOut];
            for (int i = 0; i < dy.length; i++) dy[i] = (float) Math.sin(i);
            float[] dx1 = new float[5 * dIn];
            float[] dx2 = new float[5 * dIn];
            compressed.layer(0).linear(Proj.DOWN).backwardInput(dy, 5, dx1);
            twin.layer(0).linear(Proj.DOWN).backwardInput(dy, 5, dx2);
            for (int i = 0; i < dx1.length; i++) assertEquals(dx2[i], dx1[i], TOL * (1 + Math.abs(dx2[i])));

            tensors.remove(module + ".qweight");
            ShrinkException e = org.junit.jupiter.api.Assertions.assertThrows(ShrinkException.class, () -> LlamaModel.of(cc, mapSource(tensors)));
            assertTrue(e.getMessage().contains(module), e.getMessage());
        }
    }

    /**
     * A weight big enough to be split across the pool by output rows gives, for a decode step, a
     * short batch and a prefill-sized one, with F32 and int8 activations and a bias, what the scalar
     * spec gives row by row; the same weight in a confined arena (not split) as well.
     */
    @Test
    void outputRowsSplitAcrossThreadsMatchTheScalarSpec() {
        int dOut = 200, dIn = 608; // parts of whole 32-row strips plus a ragged last part
        java.util.Random rnd = new java.util.Random(3);
        float[] wf = new float[dOut * dIn];
        for (int i = 0; i < wf.length; i++) wf[i] = (float) (rnd.nextGaussian() * 0.05);
        float[] bias = new float[dOut];
        for (int j = 0; j < dOut; j++) bias[j] = (float) rnd.nextGaussian();
        for (Arena arena : new Arena[] {Arena.ofShared(), Arena.ofConfined()}) {
            try (arena) {
                for (boolean sym : new boolean[] {true, false}) {
                    UniformQuantized q = UniformQuantized.rtn(arena, wf, dOut, dIn, 4, 32, sym);
                    for (ActivationPrecision act : ActivationPrecision.values()) {
                        CompressedLinear lin = new CompressedLinear(q, bias, act);
                        for (int n : new int[] {1, 3, 17}) {
                            float[] x = new float[n * dIn];
                            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                            float[] y = new float[n * dOut];
                            lin.forward(x, n, y);
                            Int8Activations xq = Int8Activations.quantize(x, n, dIn);
                            float[] ref = new float[dOut];
                            for (int r = 0; r < n; r++) {
                                if (act == ActivationPrecision.INT8) {
                                    ScalarInt8Uniform.matvec(q, xq, r, ref, 0);
                                } else {
                                    FormatKernels.scalar().uniformMatvec(q, java.util.Arrays.copyOfRange(x, r * dIn, (r + 1) * dIn), ref);
                                }
                                for (int j = 0; j < dOut; j++) {
                                    float e = ref[j] + bias[j];
                                    assertEquals(e, y[r * dOut + j], 1e-4f * (1 + Math.abs(e)), act + " sym=" + sym + " n=" + n + " [" + r + ", " + j + "]");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static WeightSource mapSource(Map<String, Tensor> tensors) {
        return WeightSource.of(tensors, "the test map");
    }

}
