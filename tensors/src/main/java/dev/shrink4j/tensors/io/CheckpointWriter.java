package dev.shrink4j.tensors.io;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Writes a checkpoint directory atomically: everything goes to a hidden temporary sibling of the
 * output, tensors are streamed to disk as they are added (the caller may close the arena of a tensor
 * right after {@link #add}), shards roll over at {@code maxShardBytes}, and {@link #commit} writes the
 * index, verifies every shard and renames the directory into place. Closing without committing removes
 * the temporary directory, so a failed run never leaves a half-written output.
 *
 * <pre>{@code
 * try (CheckpointWriter w = CheckpointWriter.create(out, CheckpointWriter.Options.defaults())) {
 *     w.add("model.embed_tokens.weight", embeddings);
 *     w.writeFile("config.json", configBytes);
 *     w.commit();
 * }
 * }</pre>
 */
public final class CheckpointWriter implements AutoCloseable {
    /** @param force replace an existing output; @param maxShardBytes roll to a new shard past this size. */
    public record Options(boolean force, long maxShardBytes, Map<String, String> metadata) {
        public static Options defaults() {
            return new Options(false, 4L << 30, Map.of("format", "pt"));
        }

        public Options withForce(boolean f) {
            return new Options(f, maxShardBytes, metadata);
        }

        public Options withMaxShardBytes(long b) {
            return new Options(force, b, metadata);
        }
    }

    private final Path target;
    private final Path temp;
    private final Options options;
    private final List<Path> finishedShards = new ArrayList<>();
    private final Map<String, Integer> shardOfTensor = new LinkedHashMap<>();
    private final Set<String> files = new HashSet<>();
    private ShardWriter current;
    private boolean committed;

    private CheckpointWriter(Path target, Path temp, Options options) {
        this.target = target;
        this.temp = temp;
        this.options = options;
    }

    /** Starts writing {@code outDir}; fails at once if it exists and {@code force} is off. */
    public static CheckpointWriter create(Path outDir, Options options) {
        Path target = outDir.toAbsolutePath().normalize();
        if (Files.exists(target) && !options.force()) {
            throw new ShrinkException(target + ": output already exists (use --force to replace it)");
        }
        Path parent = target.getParent();
        try {
            Files.createDirectories(parent);
            if (!Files.isDirectory(parent)) throw new NotDirectoryException(parent.toString());
            Path temp = AbandonedOutputs.createTempDirectory(target, "");
            UnfinishedOutputs.add(temp);
            return new CheckpointWriter(target, temp, options);
        } catch (IOException e) {
            throw new ShrinkException(target + ": cannot create the output in " + parent + ": " + WriteFailure.of(e), e);
        }
    }

    /** Appends one tensor; its bytes are on disk when this returns. */
    public void add(String name, Tensor tensor) {
        checkOpen();
        if (shardOfTensor.containsKey(name)) {
            throw new IllegalArgumentException("tensor \"" + name + "\" written twice");
        }
        if (current != null && !current.isEmpty() && current.bytes() + tensor.byteSize() > options.maxShardBytes()) {
            finishShard();
        }
        if (current == null) {
            current = new ShardWriter(temp.resolve("shard-" + finishedShards.size() + ".data"));
        }
        try {
            current.add(name, tensor);
        } catch (ShrinkException e) {
            // The shard writer names the hidden temporary directory; the user knows OUT.
            throw new ShrinkException(target + ": cannot write tensor \"" + name + "\": " + WriteFailure.describe(e.getCause() == null ? e : e.getCause()), e);
        }
        shardOfTensor.put(name, finishedShards.size());
    }

    /** Writes a side file such as {@code config.json}. */
    public void writeFile(String fileName, byte[] content) {
        checkOpen();
        checkFileName(fileName);
        try {
            Files.write(temp.resolve(fileName), content);
        } catch (IOException e) {
            throw new ShrinkException(target + ": cannot write " + fileName + ": " + WriteFailure.of(e), e);
        }
    }

    public void writeFile(String fileName, String content) {
        writeFile(fileName, content.getBytes(StandardCharsets.UTF_8));
    }

    /** Copies a side file (tokenizer, license) from the input checkpoint; the source is only read. */
    public void copyFile(Path source) {
        checkOpen();
        String fileName = source.getFileName().toString();
        checkFileName(fileName);
        try {
            Files.copy(source, temp.resolve(fileName));
        } catch (IOException e) {
            throw new ShrinkException(source + ": cannot copy into the output " + target + ": " + WriteFailure.of(e), e);
        }
    }

    private void checkFileName(String fileName) {
        if (fileName.contains("/") || fileName.startsWith(".") || fileName.endsWith(".safetensors") || fileName.equals(Checkpoint.INDEX_FILE)) {
            throw new IllegalArgumentException("invalid side file name " + fileName);
        }
        if (!files.add(fileName)) {
            throw new IllegalArgumentException("side file " + fileName + " written twice");
        }
    }

    private void finishShard() {
        Path p = temp.resolve("shard-" + finishedShards.size() + ".safetensors");
        try {
            current.finish(p, options.metadata());
        } catch (ShrinkException e) {
            throw new ShrinkException(target + ": cannot finish a shard: " + (e.getCause() == null ? e.getMessage() : WriteFailure.describe(e.getCause())), e);
        }
        finishedShards.add(p);
        current = null;
    }

    /** Finishes shards and the index, verifies them, and moves the directory into place. */
    public Path commit() {
        checkOpen();
        if (current != null) finishShard();
        int n = finishedShards.size();
        try {
            List<String> shardNames = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String name = n == 1 ? Checkpoint.SINGLE_FILE : String.format("model-%05d-of-%05d.safetensors", i + 1, n);
                Files.move(finishedShards.get(i), temp.resolve(name));
                shardNames.add(name);
            }
            if (n > 1) {
                long total = 0;
                for (String s : shardNames) total += Files.size(temp.resolve(s));
                Map<String, Object> weightMap = new LinkedHashMap<>();
                shardOfTensor.forEach((t, i) -> weightMap.put(t, shardNames.get(i)));
                Map<String, Object> index = new LinkedHashMap<>();
                index.put("metadata", Map.of("total_size", total));
                index.put("weight_map", weightMap);
                Files.writeString(temp.resolve(Checkpoint.INDEX_FILE), Json.write(index, 2) + "\n");
            }
            if (Files.exists(target)) {
                if (!options.force()) {
                    throw new ShrinkException(target + ": output appeared while writing; refusing to overwrite");
                }
                deleteTree(target);
            }
            Files.deleteIfExists(temp.resolve(AbandonedOutputs.OWNER_FILE));
            // createTempDirectory makes the directory owner-only (0700); the output is an ordinary directory.
            try {
                Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            } catch (UnsupportedOperationException notPosix) {
                // other file systems keep their defaults
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
                Files.move(temp, target);
            }
        } catch (IOException e) {
            throw new ShrinkException(target + ": cannot finish output: " + WriteFailure.of(e), e);
        }
        committed = true;
        UnfinishedOutputs.remove(temp);
        return target;
    }

    private void checkOpen() {
        if (committed) throw new IllegalStateException("checkpoint already committed");
    }

    @Override
    public void close() {
        if (current != null) current.close();
        if (!committed) {
            try {
                deleteTree(temp);
            } catch (IOException ignored) {
                // nothing more we can do; the directory is hidden and named .tmp
            }
        }
        UnfinishedOutputs.remove(temp);
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
