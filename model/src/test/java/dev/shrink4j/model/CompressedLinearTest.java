package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
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

    static WeightSource mapSource(Map<String, Tensor> tensors) {
        return WeightSource.of(tensors, "the test map");
    }

}
