package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.DenseLinear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Streaming each block's compressed linears to disk gives the same checkpoint as writing them at the end. */
class QuantizedCheckpointWriterTest {
    @TempDir Path tmp;

    private static final QuantizeOptions GPTQ4 = QuantizeOptions.defaults(QuantMethod.GPTQ, 4).withGroupSize(32);

    @ParameterizedTest
    @EnumSource(value = OutputFormat.class, names = {"SHRINK4J", "DENSE"})
    void streamedOutputEqualsInMemoryOutput(OutputFormat format) throws Exception {
        Path in = TestData.demoModel();
        Path whole = tmp.resolve("whole"), streamed = tmp.resolve("streamed");
        Map<String, Object> provenance = Map.of("method", "gptq");
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(in, arena);
            Calibration calib = Calibration.selfGenerated(model, Tokenizer.load(in, model.config()), 4, 64, 0);
            Quantizer.Result a = new Quantizer(GPTQ4, arena).run(model, calib, new Quantizer.Listener() {});
            QuantizedCheckpoint.write(in, a.weights(), format, whole, false, provenance);

            LlamaModel fresh = LlamaModel.load(in, arena);
            Quantizer.Result b;
            try (QuantizedCheckpointWriter w = QuantizedCheckpointWriter.open(in, format, streamed, false, provenance)) {
                b = new Quantizer(GPTQ4, arena).writingTo(w::add).run(fresh, calib, new Quantizer.Listener() {});
                w.commit();
            }
            assertTrue(b.weights().isEmpty(), "streamed weights are not kept");
            assertEquals(a.parameters(), b.parameters());
            assertEquals(a.storageBytes(), b.storageBytes());
            assertEquals(a.layers().size(), b.layers().size());
            for (int l = 0; l < fresh.numLayers(); l++) {
                assertTrue(fresh.layer(l).linear(Proj.DOWN) instanceof DenseLinear, "block " + l + " restored to its dense weights");
            }
        }
        assertEquals(Files.readString(whole.resolve("config.json")), Files.readString(streamed.resolve("config.json")));
        try (Arena arena = Arena.ofConfined()) {
            Checkpoint x = Checkpoint.open(whole, arena), y = Checkpoint.open(streamed, arena);
            assertEquals(new HashSet<>(x.names()), new HashSet<>(y.names()));
            for (String name : x.names()) {
                assertEquals(x.tensor(name).dtype(), y.tensor(name).dtype(), name);
                assertEquals(x.tensor(name).shape(), y.tensor(name).shape(), name);
                assertArrayEquals(x.tensor(name).segment().toArray(ValueLayout.JAVA_BYTE),
                        y.tensor(name).segment().toArray(ValueLayout.JAVA_BYTE), name);
            }
        }
    }

    @Test
    void failureMidwayLeavesNoOutput() throws Exception {
        Path in = TestData.demoModel(), out = tmp.resolve("out");
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(in, arena);
            Calibration calib = Calibration.selfGenerated(model, Tokenizer.load(in, model.config()), 2, 32, 0);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
                try (QuantizedCheckpointWriter w = QuantizedCheckpointWriter.open(in, OutputFormat.SHRINK4J, out, false, Map.of())) {
                    new Quantizer(QuantizeOptions.defaults(QuantMethod.RTN, 4), arena).writingTo((module, cw) -> {
                        if (module.startsWith("model.layers.1.")) throw new IllegalStateException("disk full at " + module);
                        w.add(module, cw);
                    }).run(model, calib, new Quantizer.Listener() {});
                    w.commit();
                }
            });
            assertTrue(e.getMessage().startsWith("disk full at model.layers.1."), e.getMessage());
        }
        assertFalse(Files.exists(out));
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(0, left.count(), "no temporary directory left behind");
        }
    }
}
