package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Per-module overrides: which rules apply, which the run cannot honour, and what a quantized model then holds. */
class ModuleOverridesTest {
    private static ModuleOverrides.Rule bits(String regex, int bits) {
        return new ModuleOverrides.Rule(Pattern.compile(regex), false, bits, null, null);
    }

    @Test
    void everyMatchingRuleAppliesInOrder() {
        ModuleOverrides o = new ModuleOverrides(List.of(bits("mlp", 8), new ModuleOverrides.Rule(Pattern.compile("layers\\.1\\.mlp\\.up"), false, 2, 32, null)));
        QuantizeOptions base = QuantizeOptions.defaults(QuantMethod.GPTQ, 4);
        QuantizeOptions up1 = o.optionsFor("model.layers.1.mlp.up_proj", base);
        assertEquals(2, up1.bits());
        assertEquals(32, up1.groupSize());
        assertEquals(8, o.optionsFor("model.layers.2.mlp.up_proj", base).bits());
        assertEquals(base, o.optionsFor("model.layers.1.self_attn.q_proj", base));
        assertEquals(List.of(o.rules().get(1)), new ModuleOverrides(List.of(o.rules().get(1))).unmatched(List.of("model.layers.0.mlp.up_proj")));
    }

    @Test
    void aMethodNeedingStatisticsTheRunDoesNotGatherIsRefused() {
        ModuleOverrides guided = new ModuleOverrides(List.of(new ModuleOverrides.Rule(Pattern.compile("mlp"), false, null, null, QuantMethod.GUIDEDQUANT)));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> guided.check(QuantizeOptions.defaults(QuantMethod.GPTQ, 4)))
                .getMessage().contains("method guidedquant needs statistics a gptq run does not gather"));
        ModuleOverrides gptq = new ModuleOverrides(List.of(new ModuleOverrides.Rule(Pattern.compile("mlp"), false, null, null, QuantMethod.GPTQ)));
        assertThrows(IllegalArgumentException.class, () -> gptq.check(QuantizeOptions.defaults(QuantMethod.RTN, 4)), "rtn may be data-free: no H");
        new ModuleOverrides(List.of(new ModuleOverrides.Rule(Pattern.compile("mlp"), false, null, null, QuantMethod.RTN)))
                .check(QuantizeOptions.defaults(QuantMethod.GUIDEDQUANT, 3));
        ModuleOverrides group = new ModuleOverrides(List.of(new ModuleOverrides.Rule(Pattern.compile("mlp"), false, null, 32, null)));
        assertThrows(IllegalArgumentException.class, () -> group.check(QuantizeOptions.defaults(QuantMethod.SQUEEZELLM, 3)));
    }

    @Test
    void aQuantizedModelHoldsEachModulesOwnSettingAndSkippedModulesUnchanged() {
        ModuleOverrides o = new ModuleOverrides(List.of(bits("down_proj", 8),
                new ModuleOverrides.Rule(Pattern.compile("layers\\.0\\.self_attn\\.q_proj$"), true, null, null, null)));
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            float[] q0 = model.layer(0).linear(dev.shrink4j.model.Proj.Q).weight(arena).toFloatArray();
            Quantizer.Result r = new Quantizer(QuantizeOptions.defaults(QuantMethod.RTN, 4).withGroupSize(64), arena)
                    .withOverrides(o).run(model, null, new Quantizer.Listener() {});
            Map<String, Quantizer.LayerReport> byModule = new java.util.HashMap<>();
            for (Quantizer.LayerReport l : r.layers()) byModule.put(l.module(), l);
            assertEquals("dense", byModule.get("model.layers.0.self_attn.q_proj").format());
            assertFalse(r.weights().containsKey("model.layers.0.self_attn.q_proj"), "a skipped module is not handed on: the writer copies the input's");
            assertEquals(8, ((dev.shrink4j.tensors.formats.UniformQuantized) r.weights().get("model.layers.3.mlp.down_proj")).bits());
            assertEquals(4, ((dev.shrink4j.tensors.formats.UniformQuantized) r.weights().get("model.layers.3.mlp.up_proj")).bits());
            float[] after = model.layer(0).linear(dev.shrink4j.model.Proj.Q).weight(arena).toFloatArray();
            assertEquals(java.util.Arrays.hashCode(q0), java.util.Arrays.hashCode(after), "the skipped q_proj computes with its input weight");
        }
    }
}
