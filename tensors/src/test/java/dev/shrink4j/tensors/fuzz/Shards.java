package dev.shrink4j.tensors.fuzz;

import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.io.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** A sharded checkpoint directory for the index target: two small valid shards, written once per JVM. */
final class Shards {
    private static Path dir;

    private Shards() {}

    static synchronized Path directory() {
        if (dir != null) return dir;
        try (Arena arena = Arena.ofConfined()) {
            Path d = Files.createDirectories(FuzzFiles.dir().resolve("sharded"));
            Map<String, Tensor> a = new LinkedHashMap<>();
            a.put("x", Tensor.ofFloats(arena, Shape.matrix(2, 3), new float[] {1, 2, 3, 4, 5, 6}));
            a.put("y", Tensor.ofFloats(arena, Shape.of(2), new float[] {7, 8}));
            SafetensorsWriter.write(d.resolve("a.safetensors"), a, Map.of(), false);
            SafetensorsWriter.write(d.resolve("b.safetensors"), Map.of("z", Tensor.ofFloats(arena, Shape.of(1), new float[] {9})), Map.of(), false);
            Files.createDirectories(d.resolve("sub"));
            Files.createSymbolicLink(d.resolve("link.safetensors"), d.resolve("b.safetensors"));
            dir = d;
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
