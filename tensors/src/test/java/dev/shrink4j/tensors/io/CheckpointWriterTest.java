package dev.shrink4j.tensors.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointWriterTest {
    @TempDir Path dir;

    static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    @Test
    void writesShardsWithIndexAndReadsBackIdentically() {
        Path out = dir.resolve("ckpt");
        Map<String, float[]> written = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined();
                CheckpointWriter w = CheckpointWriter.create(out, CheckpointWriter.Options.defaults().withMaxShardBytes(1000))) {
            for (int i = 0; i < 5; i++) {
                float[] v = random(100 + i, i);
                written.put("layer." + i + ".weight", v);
                w.add("layer." + i + ".weight", Tensor.ofFloats(arena, Shape.of(v.length), v));
            }
            Tensor bf = Tensor.ofFloats(arena, Shape.of(3, 7), random(21, 9)).convert(arena, DType.BF16);
            w.add("bf16", bf);
            w.writeFile("config.json", "{}");
            assertFalse(Files.exists(out), "nothing appears before commit");
            w.commit();
        }
        assertTrue(Files.exists(out.resolve(Checkpoint.INDEX_FILE)));
        assertTrue(Files.exists(out.resolve("model-00003-of-00003.safetensors")));
        assertTrue(Files.exists(out.resolve("config.json")));
        assertTrue(Files.isReadable(out) && Files.isExecutable(out));
        try {
            assertEquals("rwxr-xr-x", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        try (Arena arena = Arena.ofConfined()) {
            Checkpoint c = Checkpoint.open(out, arena);
            assertEquals(3, c.shards().size(), "400+404 | 408+412 | 416+42 bytes under a 1000-byte limit");
            written.forEach((n, v) -> assertArrayEquals(v, c.tensor(n).toFloatArray(), n));
            assertEquals(DType.BF16, c.tensor("bf16").dtype());
            assertEquals(Shape.of(3, 7), c.tensor("bf16").shape());
        }
    }

    @Test
    void refusesToOverwriteUnlessForcedAndLeavesNothingOnFailure() throws IOException {
        Path out = dir.resolve("out");
        Files.createDirectory(out);
        String m = assertThrows(ShrinkException.class, () -> CheckpointWriter.create(out, CheckpointWriter.Options.defaults())).getMessage();
        assertTrue(m.contains("already exists"), m);

        Path other = dir.resolve("other");
        try (Arena arena = Arena.ofConfined(); CheckpointWriter w = CheckpointWriter.create(other, CheckpointWriter.Options.defaults())) {
            w.add("x", Tensor.ofFloats(arena, Shape.of(2), new float[] {1, 2}));
            // no commit: simulates a failure mid-way
        }
        assertFalse(Files.exists(other));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(1, s.count(), "temporary directory removed");
        }

        try (Arena arena = Arena.ofConfined(); CheckpointWriter w = CheckpointWriter.create(out, CheckpointWriter.Options.defaults().withForce(true))) {
            w.add("x", Tensor.ofFloats(arena, Shape.of(2), new float[] {1, 2}));
            w.commit();
        }
        assertTrue(Files.exists(out.resolve(Checkpoint.SINGLE_FILE)));
    }

    @Test
    void singleFileWriterHeaderIsPaddedAndVerified() throws IOException {
        Path f = dir.resolve("one.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsWriter.write(f, Map.of("a", Tensor.ofFloats(arena, Shape.of(3), new float[] {1, 2, 3})), Map.of("format", "pt"), false);
        }
        byte[] bytes = Files.readAllBytes(f);
        long headerLen = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "data section 8-byte aligned");
        try (Arena arena = Arena.ofConfined()) {
            assertArrayEquals(new float[] {1, 2, 3}, SafetensorsFile.open(f, arena).tensor("a").toFloatArray());
        }
        assertThrows(ShrinkException.class, () -> SafetensorsWriter.write(f, Map.of(), Map.of(), false));
    }
}
