package dev.shrink4j.tensors.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.io.SafetensorsFile;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Fuzz targets for the safetensors readers. The one documented failure is {@link ShrinkException}
 * (its message names the file); anything else that escapes is a finding. CI replays the seeds and past
 * findings under {@code src/test/resources/.../SafetensorsFuzzTestInputs/} in regression mode;
 * {@code scripts/fuzz} runs them for a given time.
 */
class SafetensorsFuzzTest {
    /** A whole {@code .safetensors} file: header length, header JSON, data. Every tensor accepted is read. */
    @FuzzTest
    void file(byte[] bytes) {
        Path p = FuzzFiles.write("model.safetensors", bytes);
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile f = SafetensorsFile.open(p, arena);
            for (String name : f.names()) touch(f.tensor(name));
            Objects.requireNonNull(f.metadata());
        } catch (ShrinkException expected) {
            // the documented refusal
        }
    }

    /**
     * {@code model.safetensors.index.json} over two valid shards ({@code a.safetensors}: x, y;
     * {@code b.safetensors}: z), with a subdirectory and a symlink beside them for the fuzzer to name.
     */
    @FuzzTest
    void index(byte[] bytes) {
        Path dir = Shards.directory();
        try {
            Files.write(dir.resolve(Checkpoint.INDEX_FILE), bytes);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        try (Arena arena = Arena.ofConfined()) {
            Checkpoint c = Checkpoint.open(dir, arena);
            for (String name : c.names()) touch(c.tensor(name));
        } catch (ShrinkException expected) {
            // the documented refusal
        }
    }

    /** The JSON parser on its own: {@link Json.JsonException} is its documented refusal; what it accepts round-trips. */
    @FuzzTest
    void json(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        Object v;
        try {
            v = Json.parse(text);
        } catch (Json.JsonException expected) {
            return;
        }
        Object again = Json.parse(Json.write(v, 0));
        if (!Objects.equals(normalize(v), normalize(again))) {
            throw new AssertionError("JSON does not round-trip: " + text);
        }
    }

    /** NaN is not equal to itself in Double.equals terms only for boxed comparisons we never make; -0.0 vs 0.0 is. */
    private static Object normalize(Object v) {
        if (v instanceof Double d && d == 0.0) return 0.0;
        if (v instanceof java.util.Map<?, ?> m) {
            java.util.Map<Object, Object> r = new java.util.LinkedHashMap<>();
            m.forEach((k, x) -> r.put(k, normalize(x)));
            return r;
        }
        if (v instanceof java.util.List<?> l) return l.stream().map(SafetensorsFuzzTest::normalize).toList();
        return v;
    }

    /** Reads the first and last element: a view that lies about its extent fails here. */
    static float touch(Tensor t) {
        if (t.numel() == 0) return 0;
        return switch (t.dtype()) {
            case F32, F16, BF16 -> t.getFloat(0) + t.getFloat(t.numel() - 1);
            default -> t.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0) + t.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, t.byteSize() - 1);
        };
    }
}
