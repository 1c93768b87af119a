package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** RTN (docs/methods/rtn-gptq.md §1) needs no data: without calibration it gives the same weights, with no objectives. */
class RtnDataFreeTest {
    @Test
    void dataFreeRtnEqualsCalibratedRtn() {
        Path in = TestData.demoModel();
        QuantizeOptions o = QuantizeOptions.defaults(QuantMethod.RTN, 3).withGroupSize(32);
        try (Arena arena = Arena.ofShared()) {
            LlamaModel a = LlamaModel.load(in, arena), b = LlamaModel.load(in, arena);
            Calibration calib = Calibration.selfGenerated(a, Tokenizer.load(in, a.config()), 2, 32, 0);
            Quantizer.Result withData = new Quantizer(o, arena).run(a, calib, new Quantizer.Listener() {});
            Quantizer.Result free = new Quantizer(o, arena).run(b, null, new Quantizer.Listener() {});
            assertEquals(withData.weights().keySet(), free.weights().keySet());
            assertEquals(withData.storageBytes(), free.storageBytes());
            for (String module : withData.weights().keySet()) {
                Map<String, Tensor> x = withData.weights().get(module).toTensors(module), y = free.weights().get(module).toTensors(module);
                assertEquals(x.keySet(), y.keySet());
                for (String t : x.keySet()) {
                    assertArrayEquals(x.get(t).segment().toArray(ValueLayout.JAVA_BYTE), y.get(t).segment().toArray(ValueLayout.JAVA_BYTE), t);
                }
            }
            for (Quantizer.LayerReport r : free.layers()) assertTrue(Double.isNaN(r.objectiveAfter()), r.module());
            for (Quantizer.LayerReport r : withData.layers()) assertTrue(r.objectiveAfter() > 0, r.module());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new Quantizer(QuantizeOptions.defaults(QuantMethod.GPTQ, 4), arena).run(b, null, new Quantizer.Listener() {}));
            assertTrue(e.getMessage().contains("gptq needs calibration data"), e.getMessage());
        }
    }
}
