package dev.shrink4j.tensors.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.formats.GgufBlockWeight;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {
    @TempDir Path dir;

    /** A file with every metadata type and one tensor of each writable type. */
    private Path writeSample(Path file, float[] values) {
        try (Arena arena = Arena.ofConfined(); GgufWriter w = new GgufWriter(file, false)) {
            w.put("u8", new GgufValue(GgufValue.Type.UINT8, 255L));
            w.put("i8", new GgufValue(GgufValue.Type.INT8, -128L));
            w.put("u16", new GgufValue(GgufValue.Type.UINT16, 65535L));
            w.put("i16", new GgufValue(GgufValue.Type.INT16, -32768L));
            w.put("u32", GgufValue.u32(4294967295L));
            w.put("i32", GgufValue.i32(-7));
            w.put("f32", GgufValue.f32(1.5));
            w.put("bool", GgufValue.bool(true));
            w.put("str", GgufValue.string("héllo ▁"));
            w.put("u64", new GgufValue(GgufValue.Type.UINT64, -1L));
            w.put("i64", new GgufValue(GgufValue.Type.INT64, Long.MIN_VALUE));
            w.put("f64", new GgufValue(GgufValue.Type.FLOAT64, Math.PI));
            w.put("arr", GgufValue.array(GgufValue.Type.STRING, List.of("a", "", "c")));
            w.put("nested", GgufValue.array(GgufValue.Type.ARRAY, List.of(new GgufValue.Array(GgufValue.Type.INT32, List.of(1L, 2L)))));
            for (GgufType t : GgufType.values()) {
                if (!t.writable) continue;
                MemorySegment seg = arena.allocate(t.bytes(values.length));
                GgufBlocks.quantize(t, values, 0, values.length, seg, 0);
                w.add("t." + t.name(), t, new long[] {2, values.length / 2}, seg);
            }
            w.commit();
        }
        return file;
    }

    private static float[] values(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    @Test void roundTripsMetadataAndTensors() {
        float[] v = values(128, 1);
        Path f = writeSample(dir.resolve("a.gguf"), v);
        try (Arena arena = Arena.ofConfined()) {
            GgufFile g = GgufFile.open(f, arena);
            assertEquals(255L, g.get("u8").asLong());
            assertEquals(-128L, g.get("i8").asLong());
            assertEquals(65535L, g.get("u16").asLong());
            assertEquals(-32768L, g.get("i16").asLong());
            assertEquals(4294967295L, g.get("u32").asLong());
            assertEquals(-7L, g.get("i32").asLong());
            assertEquals(1.5, g.get("f32").asDouble());
            assertEquals(true, g.get("bool").value());
            assertEquals("héllo ▁", g.get("str").asString());
            assertEquals(-1L, g.get("u64").asLong());
            assertEquals(Long.MIN_VALUE, g.get("i64").asLong());
            assertEquals(Math.PI, g.get("f64").asDouble());
            assertEquals(List.of("a", "", "c"), g.get("arr").asArray().values());
            assertEquals(GgufValue.Type.ARRAY, g.get("nested").asArray().elementType());
            assertArrayEquals(v, g.tensor("t.F32").toFloatArray());
            assertArrayEquals(new long[] {2, 64}, g.entry("t.Q4_0").shape().dims());
            assertArrayEquals(new long[] {64, 2}, g.entry("t.Q4_0").ne());
            for (String n : g.tensors().keySet()) assertEquals(0, g.entry(n).offset() % g.alignment(), n);
            GgufBlockWeight q8 = g.weight("t.Q8_0");
            assertEquals(2, q8.dOut());
            assertEquals(64, q8.dIn());
        }
    }

    @Test void writerRefusesToOverwriteAndLeavesNothingBehind() throws IOException {
        Path f = writeSample(dir.resolve("a.gguf"), values(64, 2));
        assertThrows(ShrinkException.class, () -> new GgufWriter(f, false));
        try (GgufWriter w = new GgufWriter(dir.resolve("b.gguf"), false)) {
            w.put("k", GgufValue.string("v"));
        }
        try (var s = Files.list(dir)) {
            assertEquals(List.of("a.gguf"), s.map(p -> p.getFileName().toString()).toList());
        }
    }

    // ---- hostile inputs: each is one line naming the file and the item ----

    private String refuse(byte[] bytes) throws IOException {
        Path p = dir.resolve("bad.gguf");
        Files.write(p, bytes);
        try (Arena arena = Arena.ofConfined()) {
            String m = assertThrows(ShrinkException.class, () -> GgufFile.open(p, arena)).getMessage();
            assertTrue(m.startsWith(p + ": malformed GGUF: "), m);
            assertFalse(m.contains("\n"), m);
            return m;
        }
    }

    /** A minimal valid file: one metadata string, one F32 (2, 32) tensor. */
    private static final class Image {
        final ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        int nDimsPos, typePos, offsetPos, strLenPos, dimPos;

        Image(String tensorName, String secondTensor) {
            this(tensorName, secondTensor, 256);
        }

        Image(String tensorName, String secondTensor, long secondOffset) {
            b.putInt(GgufFile.MAGIC).putInt(3).putLong(secondTensor == null ? 1 : 2).putLong(1);
            putString("general.name");
            b.putInt(GgufValue.Type.STRING.ordinal());
            strLenPos = b.position();
            putString("tiny");
            tensor(tensorName, 0, true);
            if (secondTensor != null) tensor(secondTensor, secondOffset, false);
            while (b.position() % 32 != 0) b.put((byte) 0);
            b.position(b.position() + (secondTensor == null ? 256 : 512));
        }

        void tensor(String name, long offset, boolean first) {
            putString(name);
            if (first) nDimsPos = b.position();
            b.putInt(2);
            if (first) dimPos = b.position();
            b.putLong(32).putLong(2);
            if (first) typePos = b.position();
            b.putInt(GgufType.F32.id);
            if (first) offsetPos = b.position();
            b.putLong(offset);
        }

        void putString(String s) {
            byte[] x = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            b.putLong(x.length).put(x);
        }

        byte[] bytes() {
            byte[] out = new byte[b.position()];
            System.arraycopy(b.array(), 0, out, 0, out.length);
            return out;
        }
    }

    @Test void validImageOpens() throws IOException {
        Path p = dir.resolve("ok.gguf");
        Files.write(p, new Image("w", null).bytes());
        try (Arena arena = Arena.ofConfined()) {
            assertArrayEquals(new long[] {2, 32}, GgufFile.open(p, arena).tensor("w").shape().dims());
        }
    }

    @Test void refusesTruncatedFile() throws IOException {
        byte[] ok = new Image("w", null).bytes();
        String m = refuse(java.util.Arrays.copyOf(ok, ok.length - 1));
        assertTrue(m.contains("tensor \"w\"") && m.contains("outside"), m);
        assertTrue(refuse(java.util.Arrays.copyOf(ok, 40)).contains("metadata key #0: string length 12 runs past the end of the file"));
        assertTrue(refuse(java.util.Arrays.copyOf(ok, 30)).contains("tensor count 1 cannot fit in the file"));
    }

    @Test void refusesUnknownTensorType() throws IOException {
        Image im = new Image("w", null);
        im.b.putInt(im.typePos, 99);
        String m = refuse(im.bytes());
        assertTrue(m.contains("tensor \"w\"") && m.contains("unknown or unsupported ggml type 99"), m);
    }

    @Test void refusesDataOutsideTheFile() throws IOException {
        Image im = new Image("w", null);
        im.b.putLong(im.offsetPos, 1L << 20);
        assertTrue(refuse(im.bytes()).contains("tensor \"w\": data [1048576"));
    }

    @Test void refusesMisalignedOffset() throws IOException {
        Image im = new Image("w", null);
        im.b.putLong(im.offsetPos, 4);
        assertTrue(refuse(im.bytes()).contains("tensor \"w\": offset 4 is not a multiple of the alignment 32"));
    }

    @Test void refusesStringLongerThanTheFile() throws IOException {
        Image im = new Image("w", null);
        im.b.putLong(im.strLenPos, 1L << 40);
        String m = refuse(im.bytes());
        assertTrue(m.contains("metadata \"general.name\": string length 1099511627776 runs past the end"), m);
    }

    @Test void refusesTooManyDims() throws IOException {
        Image im = new Image("w", null);
        im.b.putInt(im.nDimsPos, 5);
        assertTrue(refuse(im.bytes()).contains("tensor \"w\": n_dims 5 outside 1..4"));
    }

    @Test void refusesDuplicateTensorNames() throws IOException {
        assertTrue(refuse(new Image("w", "w").bytes()).contains("duplicate tensor name \"w\""));
    }

    @Test void refusesOverlappingTensors() throws IOException {
        Path p = dir.resolve("two.gguf");
        Files.write(p, new Image("w", "v").bytes());
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(2, GgufFile.open(p, arena).tensors().size());
        }
        assertTrue(refuse(new Image("w", "v", 0).bytes()).contains("overlaps the previous tensor"));
    }

    @Test void refusesBadMagicAndVersion() throws IOException {
        byte[] ok = new Image("w", null).bytes();
        byte[] magic = ok.clone();
        magic[0] = 'X';
        assertTrue(refuse(magic).contains("not a GGUF file"));
        byte[] v2 = ok.clone();
        v2[4] = 2;
        assertTrue(refuse(v2).contains("GGUF version 2 is not supported"));
    }

    @Test void refusesRowNotWholeBlocks() throws IOException {
        Image im = new Image("w", null);
        im.b.putInt(im.typePos, GgufType.Q8_0.id);
        im.b.putLong(im.dimPos, 48);
        assertTrue(refuse(im.bytes()).contains("row length 48 is not a multiple of the Q8_0 block size 32"));
    }
}
