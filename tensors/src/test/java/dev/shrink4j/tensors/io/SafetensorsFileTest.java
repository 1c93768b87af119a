package dev.shrink4j.tensors.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir Path dir;

    /** Golden values read independently (NumPy over the raw bytes) from the demo checkpoint. */
    @Test
    void readsTheDemoCheckpointWithGoldenValues() {
        try (Arena arena = Arena.ofConfined()) {
            Checkpoint ckpt = Checkpoint.open(TestData.demoModel(), arena);
            assertEquals(47, ckpt.names().size());
            assertEquals("pt", ckpt.metadata().get("format"));
            Tensor emb = ckpt.tensor("model.embed_tokens.weight");
            assertEquals(DType.F32, emb.dtype());
            assertEquals(Shape.of(512, 64), emb.shape());
            assertEquals(0xbe96e950, Float.floatToRawIntBits(emb.getFloat(0)));
            assertEquals(0xbed91acd, Float.floatToRawIntBits(emb.row(511).getFloat(63)));
            assertEquals(-752.3677446640068, sum(emb), 1e-9);
            Tensor down = ckpt.tensor("model.layers.2.mlp.down_proj.weight");
            assertEquals(Shape.of(64, 172), down.shape());
            assertEquals(0xbd05724d, Float.floatToRawIntBits(down.row(10).getFloat(171)));
            assertEquals(-4.021498598276594, sum(down), 1e-9);
            Tensor q = ckpt.tensor("model.layers.4.self_attn.q_proj.weight");
            assertEquals(0xbe418cd7, Float.floatToRawIntBits(q.getFloat(63 * 64 + 63)));
            assertFalse(ckpt.contains("lm_head.weight"), "tied embeddings: no lm_head");
            ShrinkException e = assertThrows(ShrinkException.class, () -> ckpt.tensor("lm_head.weight"));
            assertTrue(e.getMessage().contains("lm_head.weight"));
        }
    }

    private static double sum(Tensor t) {
        double s = 0;
        for (float v : t.toFloatArray()) s += v;
        return s;
    }

    private Path file(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = Files.createTempFile(dir, "t", ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    private String error(Path p) {
        try (Arena arena = Arena.ofConfined()) {
            return assertThrows(ShrinkException.class, () -> SafetensorsFile.open(p, arena)).getMessage();
        }
    }

    @Test
    void acceptsAWellFormedFile() throws IOException {
        Path p = file("{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[8,12]}}", 12);
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(p, arena);
            assertEquals(java.util.List.of("a", "b"), f.names());
            assertEquals("v", f.metadata().get("k"));
            assertEquals(Shape.of(1, 2), f.tensor("b").shape());
        }
    }

    @Test
    void rejectsMalformedFilesWithAMessageNamingFileAndTensor() throws IOException {
        String ok = "\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]";
        Path tooShort = Files.write(dir.resolve("short.safetensors"), new byte[] {1, 2, 3});
        assertTrue(error(tooShort).contains("shorter than the 8-byte header length"));

        Path beyond = Files.createTempFile(dir, "b", ".safetensors");
        Files.write(beyond, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).array());
        assertTrue(error(beyond).contains("extends beyond the file"), error(beyond));

        Path huge = Files.createTempFile(dir, "h", ".safetensors");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-5).array());
        assertTrue(error(huge).contains("extends beyond the file"));

        byte[] badUtf8 = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        Path utf = Files.createTempFile(dir, "u", ".safetensors");
        Files.write(utf, ByteBuffer.allocate(8 + badUtf8.length).order(ByteOrder.LITTLE_ENDIAN).putLong(badUtf8.length).put(badUtf8).array());
        assertTrue(error(utf).contains("not valid UTF-8"));

        assertTrue(error(file("{\"a\":", 0)).contains("not valid JSON"));
        assertTrue(error(file("[1]", 0)).contains("not a JSON object"));
        String unknown = error(file("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2));
        assertTrue(unknown.contains("\"w\"") && unknown.contains("unknown dtype F8_E4M3"), unknown);
        String size = error(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8));
        assertTrue(size.contains("\"w\"") && size.contains("needs 12 bytes"), size);
        assertTrue(error(file("{\"w\":{" + ok.replace("[0,8]", "[0,16]").replace("[2]", "[4]") + "}}", 8)).contains("outside the data section"));
        String overlap = error(file("{\"a\":{" + ok + "},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12));
        assertTrue(overlap.contains("\"b\"") && overlap.contains("overlaps"), overlap);
        String gap = error(file("{\"a\":{" + ok + "},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16));
        assertTrue(gap.contains("gap"), gap);
        String dup = error(file("{\"a\":{" + ok + "},\"a\":{" + ok + "}}", 8));
        assertTrue(dup.contains("duplicate key \"a\""), dup);
        assertTrue(error(file("{\"a\":{" + ok + "}}", 12)).contains("tensors cover 8"), "trailing bytes");
        assertTrue(error(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8)).contains("invalid dimension"));
        String path = error(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}, \"b\": 3}", 8));
        assertTrue(path.contains(dir.toString()), "message names the file: " + path);
    }

    @Test
    void directoryWithoutWeightsIsAClearError() throws IOException {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        try (Arena arena = Arena.ofConfined()) {
            String m = assertThrows(ShrinkException.class, () -> Checkpoint.open(empty, arena)).getMessage();
            assertTrue(m.contains("no model.safetensors"), m);
            m = assertThrows(ShrinkException.class, () -> Checkpoint.open(dir.resolve("nope"), arena)).getMessage();
            assertTrue(m.contains("no such file"), m);
        }
    }
}
