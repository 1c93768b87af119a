package dev.shrink4j.model;

import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.io.Checkpoint;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/** A memory-mapped safetensors checkpoint ({@link Checkpoint}) as a {@link WeightSource}. */
public final class CheckpointWeights implements WeightSource {
    private final Checkpoint checkpoint;

    public CheckpointWeights(Checkpoint checkpoint) {
        this.checkpoint = checkpoint;
    }

    /** Maps {@code dirOrFile} into {@code arena}; tensors live as long as the arena. */
    public static CheckpointWeights open(Path dirOrFile, Arena arena) {
        return new CheckpointWeights(Checkpoint.open(dirOrFile, arena));
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    @Override
    public Set<String> names() {
        return new LinkedHashSet<>(checkpoint.names());
    }

    @Override
    public boolean contains(String name) {
        return checkpoint.contains(name);
    }

    @Override
    public Tensor tensor(String name) {
        return checkpoint.tensor(name);
    }

    @Override
    public Path directory() {
        return checkpoint.directory();
    }
}
