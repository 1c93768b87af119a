package dev.shrink4j.tensors.io;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Hugging Face checkpoint: a directory with {@code model.safetensors} or sharded
 * {@code model-0000i-of-0000n.safetensors} listed by {@code model.safetensors.index.json}, or a single
 * {@code .safetensors} file. Each shard is mapped once into the caller's arena; tensors are zero-copy.
 */
public final class Checkpoint {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path directory;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> byName; // name → shard, in shard then header order

    private Checkpoint(Path directory, List<SafetensorsFile> shards, Map<String, SafetensorsFile> byName) {
        this.directory = directory;
        this.shards = shards;
        this.byName = byName;
    }

    /** Opens a checkpoint directory or a single {@code .safetensors} file. */
    public static Checkpoint open(Path path, Arena arena) {
        if (!Files.exists(path)) {
            throw new ShrinkException(path + ": no such file or directory");
        }
        if (Files.isRegularFile(path)) {
            SafetensorsFile f = SafetensorsFile.open(path, arena);
            return of(path.toAbsolutePath().getParent(), List.of(f));
        }
        Path index = path.resolve(INDEX_FILE);
        Path single = path.resolve(SINGLE_FILE);
        if (Files.exists(index)) {
            return openSharded(path, index, arena);
        }
        if (Files.exists(single)) {
            return of(path, List.of(SafetensorsFile.open(single, arena)));
        }
        if (Files.exists(path.resolve("pytorch_model.bin"))) {
            throw new ShrinkException(path + ": only pytorch_model.bin found; shrink4j reads safetensors (convert with `transformers` save_pretrained(safe_serialization=True))");
        }
        throw new ShrinkException(path + ": no " + SINGLE_FILE + " or " + INDEX_FILE + " in this directory");
    }

    private static Checkpoint openSharded(Path dir, Path index, Arena arena) {
        Object parsed;
        try {
            parsed = Json.parse(Files.readString(index, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ShrinkException(index + ": cannot read: " + e.getMessage(), e);
        } catch (Json.JsonException e) {
            throw new ShrinkException(index + ": invalid JSON: " + e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> m) || !(m.get("weight_map") instanceof Map<?, ?> weightMap)) {
            throw new ShrinkException(index + ": missing \"weight_map\" object");
        }
        Map<String, SafetensorsFile> files = new LinkedHashMap<>();
        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : weightMap.entrySet()) {
            String name = (String) e.getKey();
            if (!(e.getValue() instanceof String shardName) || shardName.contains("/") || shardName.contains("\\")) {
                throw new ShrinkException(index + ": tensor \"" + name + "\" maps to an invalid shard name");
            }
            SafetensorsFile f = files.computeIfAbsent(shardName, s -> {
                Path p = dir.resolve(s);
                if (!Files.exists(p)) {
                    throw new ShrinkException(index + ": shard " + s + " (holding \"" + name + "\") is missing");
                }
                return SafetensorsFile.open(p, arena);
            });
            if (!f.contains(name)) {
                throw new ShrinkException(index + ": tensor \"" + name + "\" is listed in " + shardName + " but that shard does not contain it");
            }
            byName.put(name, f);
        }
        for (SafetensorsFile f : files.values()) {
            for (String n : f.names()) {
                if (byName.get(n) != f) {
                    throw new ShrinkException(f.path() + ": tensor \"" + n + "\" is not listed for this shard in " + INDEX_FILE);
                }
            }
        }
        return new Checkpoint(dir, List.copyOf(files.values()), Collections.unmodifiableMap(byName));
    }

    private static Checkpoint of(Path dir, List<SafetensorsFile> shards) {
        Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
        for (SafetensorsFile f : shards) {
            for (String n : f.names()) {
                if (byName.put(n, f) != null) {
                    throw new ShrinkException(f.path() + ": tensor \"" + n + "\" appears in more than one shard");
                }
            }
        }
        return new Checkpoint(dir, shards, Collections.unmodifiableMap(byName));
    }

    /** The directory holding the checkpoint (for a single file: its parent). */
    public Path directory() {
        return directory;
    }

    public List<SafetensorsFile> shards() {
        return shards;
    }

    public List<String> names() {
        return new ArrayList<>(byName.keySet());
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    public TensorInfo info(String name) {
        return shardOf(name).info(name);
    }

    /** A zero-copy view of {@code name}; a missing tensor is a user error naming the checkpoint. */
    public Tensor tensor(String name) {
        return shardOf(name).tensor(name);
    }

    public Optional<Tensor> find(String name) {
        SafetensorsFile f = byName.get(name);
        return f == null ? Optional.empty() : Optional.of(f.tensor(name));
    }

    private SafetensorsFile shardOf(String name) {
        SafetensorsFile f = byName.get(name);
        if (f == null) {
            throw new ShrinkException(directory + ": missing tensor \"" + name + "\"");
        }
        return f;
    }

    /** Merged {@code __metadata__} of all shards. */
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        for (SafetensorsFile f : shards) m.putAll(f.metadata());
        return m;
    }

    /** Total bytes of tensor data. */
    public long dataBytes() {
        long n = 0;
        for (SafetensorsFile f : shards) n += f.dataBytes();
        return n;
    }
}
