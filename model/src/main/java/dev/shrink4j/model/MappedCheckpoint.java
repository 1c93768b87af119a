package dev.shrink4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A safetensors checkpoint (one file, or a directory with {@code model.safetensors} or a sharded
 * {@code model.safetensors.index.json}) memory-mapped into an arena the caller owns; tensors are
 * zero-copy slices of the mapping.
 */
public final class MappedCheckpoint implements WeightSource {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path directory;
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();

    private MappedCheckpoint(Path directory) {
        this.directory = directory;
    }

    /** Maps {@code dirOrFile} into {@code arena}; the tensors live as long as the arena. */
    public static MappedCheckpoint open(Path dirOrFile, Arena arena) {
        Path dir = Files.isDirectory(dirOrFile) ? dirOrFile : dirOrFile.getParent();
        MappedCheckpoint ck = new MappedCheckpoint(dir);
        if (!Files.isDirectory(dirOrFile)) {
            ck.mapFile(dirOrFile, arena);
            return ck;
        }
        Path index = dirOrFile.resolve("model.safetensors.index.json");
        Path single = dirOrFile.resolve("model.safetensors");
        if (Files.isRegularFile(index)) {
            Set<String> shards = new TreeSet<>();
            try {
                JSON.readTree(index.toFile()).path("weight_map").properties().forEach(e -> shards.add(e.getValue().asText()));
            } catch (IOException e) {
                throw new ShrinkException("cannot parse " + index + ": " + e.getMessage(), e);
            }
            for (String s : shards) ck.mapFile(dirOrFile.resolve(s), arena);
        } else if (Files.isRegularFile(single)) {
            ck.mapFile(single, arena);
        } else {
            throw new ShrinkException("no model.safetensors or model.safetensors.index.json in " + dirOrFile);
        }
        return ck;
    }

    private void mapFile(Path file, Arena arena) {
        if (!Files.isRegularFile(file)) {
            throw new ShrinkException("safetensors shard not found: " + file);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new ShrinkException(file + " is not a safetensors file (" + size + " bytes)");
            }
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLen = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen <= 0 || 8 + headerLen > size) {
                throw new ShrinkException(file + " is not a safetensors file (header length " + headerLen + ")");
            }
            byte[] hb = seg.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            JsonNode header = JSON.readTree(new String(hb, StandardCharsets.UTF_8));
            long base = 8 + headerLen;
            for (Map.Entry<String, JsonNode> e : header.properties()) {
                if (e.getKey().equals("__metadata__")) continue;
                JsonNode t = e.getValue();
                DType dt = dtype(t.path("dtype").asText(), file, e.getKey());
                JsonNode shapeNode = t.path("shape");
                long[] dims = new long[shapeNode.size()];
                for (int i = 0; i < dims.length; i++) dims[i] = shapeNode.get(i).asLong();
                long begin = t.path("data_offsets").get(0).asLong();
                long end = t.path("data_offsets").get(1).asLong();
                Shape shape = Shape.of(dims);
                if (end - begin != shape.numel() * dt.byteSize() || base + end > size) {
                    throw new ShrinkException(file + ": tensor " + e.getKey() + " has inconsistent data offsets");
                }
                tensors.put(e.getKey(), Tensor.wrap(dt, shape, seg.asSlice(base + begin, end - begin)));
            }
        } catch (IOException e) {
            throw new ShrinkException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static DType dtype(String s, Path file, String name) {
        return switch (s) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "F64" -> DType.F64;
            case "I8" -> DType.I8;
            case "U8" -> DType.U8;
            case "I16" -> DType.I16;
            case "I32" -> DType.I32;
            case "I64" -> DType.I64;
            case "BOOL" -> DType.BOOL;
            default -> throw new ShrinkException(file + ": tensor " + name + " has unsupported dtype " + s);
        };
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new ShrinkException("tensor " + name + " not found in checkpoint " + directory);
        }
        return t;
    }

    @Override
    public Path directory() {
        return directory;
    }
}
