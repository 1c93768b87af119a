package dev.shrink4j.model;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Named tensors of a checkpoint, zero-copy where the storage allows. The model reads its weights
 * only through this interface, so a memory-mapped safetensors directory, an in-memory map (tests)
 * or a compressed checkpoint all serve.
 */
public interface WeightSource {
    /** All tensor names. */
    Set<String> names();

    boolean contains(String name);

    /** The tensor; throws {@link dev.shrink4j.tensors.ShrinkException} naming it and the checkpoint when absent. */
    Tensor tensor(String name);

    /** The directory the tensors came from (for messages and sibling files), or null. */
    Path directory();

    /** An in-memory source over {@code tensors} (not copied), with no directory; {@code what} names it in errors. */
    static WeightSource of(Map<String, Tensor> tensors, String what) {
        return new WeightSource() {
            @Override
            public Set<String> names() {
                return tensors.keySet();
            }

            @Override
            public boolean contains(String name) {
                return tensors.containsKey(name);
            }

            @Override
            public Tensor tensor(String name) {
                Tensor t = tensors.get(name);
                if (t == null) throw new ShrinkException("tensor " + name + " not found in " + what);
                return t;
            }

            @Override
            public Path directory() {
                return null;
            }
        };
    }
}
