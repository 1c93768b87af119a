package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.CheckpointConfig;
import dev.shrink4j.model.CompressedLinear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.formats.UniformQuantized;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Quantizing an already quantized checkpoint: its linears are dequantized per block and quantized again. */
class CompressedInputTest {
    @TempDir Path tmp;

    private static final Map<String, Object> PROVENANCE = Map.of("method", "rtn", "parameters", Map.of("group_size", 128));

    /** RTN (data-free) of {@code in} streamed to {@code out} in {@code format}. */
    private static Quantizer.Result quantize(Path in, Path out, int bits, OutputFormat format) throws Exception {
        try (Arena arena = Arena.ofShared();
             QuantizedCheckpointWriter w = QuantizedCheckpointWriter.open(in, format, out, false, PROVENANCE)) {
            LlamaModel model = LlamaModel.load(in, arena);
            Quantizer.Result r = new Quantizer(QuantizeOptions.defaults(QuantMethod.RTN, bits), arena).writingTo(w::add)
                    .run(model, null, new Quantizer.Listener() {});
            w.commit();
            return r;
        }
    }

    @Test
    void aQuantizedCheckpointQuantizesAgain() throws Exception {
        Path q4 = tmp.resolve("q4"), q3 = tmp.resolve("q3"), whole = tmp.resolve("q3-whole");
        quantize(TestData.demoModel(), q4, 4, OutputFormat.SHRINK4J);
        Quantizer.Result r;
        try (Arena arena = Arena.ofShared()) {
            LlamaModel in = LlamaModel.load(q4, arena);
            assertTrue(in.isCompressed());
            r = quantize(q4, q3, 3, OutputFormat.SHRINK4J);
            // The in-memory writer gives the same checkpoint.
            Quantizer.Result m = new Quantizer(QuantizeOptions.defaults(QuantMethod.RTN, 3), arena).run(in, null, new Quantizer.Listener() {});
            QuantizedCheckpoint.write(q4, m.weights(), OutputFormat.SHRINK4J, whole, false, PROVENANCE);
        }
        assertEquals(35, r.layers().size());
        try (Arena arena = Arena.ofShared()) {
            LlamaModel out = LlamaModel.load(q3, arena);
            assertTrue(out.isCompressed());
            for (int l = 0; l < out.numLayers(); l++) {
                for (Proj p : Proj.values()) {
                    UniformQuantized u = (UniformQuantized) ((CompressedLinear) out.layer(l).linear(p)).compressed();
                    assertEquals(3, u.bits(), p.module(l));
                }
            }
            Checkpoint a = Checkpoint.open(q4, arena), b = Checkpoint.open(q3, arena), c = Checkpoint.open(whole, arena);
            assertEquals(new HashSet<>(a.names()), new HashSet<>(b.names()), "the 4-bit tensors are replaced, none left over");
            assertEquals(new HashSet<>(b.names()), new HashSet<>(c.names()));
            for (String name : b.names()) {
                assertArrayEquals(b.tensor(name).segment().toArray(ValueLayout.JAVA_BYTE), c.tensor(name).segment().toArray(ValueLayout.JAVA_BYTE), name);
            }
        }
        Map<String, Object> config = CheckpointConfig.read(q3);
        assertTrue(CheckpointConfig.isMarked(config));
        assertEquals("shrink4j", config.get("model_type"));
        assertEquals("llama", CheckpointConfig.baseModelType(config));
        Map<?, ?> params = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) config.get("shrink4j")).get("provenance")).get("parameters");
        assertEquals(Map.of("d_in 64", 64L, "d_in 172", 128L), params.get("effective_group_size"), "64-wide linears store groups of 64");
    }

    @Test
    void aQuantizedCheckpointExportsDense() throws Exception {
        Path q4 = tmp.resolve("q4"), dense = tmp.resolve("dense");
        quantize(TestData.demoModel(), q4, 4, OutputFormat.SHRINK4J);
        quantize(q4, dense, 8, OutputFormat.DENSE);
        Map<String, Object> config = CheckpointConfig.read(dense);
        assertFalse(config.containsKey("shrink4j"));
        assertFalse(config.containsKey("quantization_config"), "a dense output loads anywhere: no marking");
        assertEquals("llama", config.get("model_type"), "the marked input's model_type is restored");
        try (Arena arena = Arena.ofShared()) {
            LlamaModel d = LlamaModel.load(dense, arena);
            assertFalse(d.isCompressed());
            Checkpoint c = Checkpoint.open(dense, arena);
            assertTrue(c.find("model.layers.0.self_attn.q_proj.weight").isPresent());
            assertTrue(c.names().stream().noneMatch(n -> n.endsWith(".qweight") || n.endsWith(".scales") || n.endsWith(".zeros")), c.names().toString());
        }
    }

    @Test
    void aQuantizedCheckpointExportsToJlamaQ4() throws Exception {
        Path q4 = tmp.resolve("q4"), jlama = tmp.resolve("jlama");
        quantize(TestData.demoModel(), q4, 4, OutputFormat.SHRINK4J);
        try (Arena arena = Arena.ofShared()) {
            LlamaModel in = LlamaModel.load(q4, arena);
            QuantizeOptions o = QuantizeOptions.defaults(QuantMethod.RTN, 4).withGroupSize(32).withSymmetric(true);
            Quantizer.Result r = new Quantizer(o, arena).run(in, null, new Quantizer.Listener() {});
            QuantizedCheckpoint.write(q4, r.weights(), OutputFormat.JLAMA_Q4, jlama, false, PROVENANCE);
        }
        // The Q4 dtype is jlama's, so read the safetensors header by hand.
        byte[] file = java.nio.file.Files.readAllBytes(jlama.resolve("model.safetensors"));
        long n = java.nio.ByteBuffer.wrap(file, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        Map<?, ?> header = (Map<?, ?>) dev.shrink4j.tensors.io.Json.parse(new String(file, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8).strip());
        for (int l = 0; l < 5; l++) {
            for (Proj p : Proj.values()) assertTrue(header.containsKey(p.weightName(l)), p.weightName(l));
        }
        assertTrue(header.keySet().stream().noneMatch(k -> k.toString().endsWith(".qweight") || k.toString().endsWith(".zeros")), header.keySet().toString());
        assertFalse(CheckpointConfig.read(jlama).containsKey("shrink4j"));
        assertFalse(CheckpointConfig.isMarked(CheckpointConfig.read(jlama)));
        assertEquals("llama", CheckpointConfig.read(jlama).get("model_type"), "jlama resolves the model by its type");
    }
}
