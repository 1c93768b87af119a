package dev.shrink4j.model;

import java.lang.foreign.Arena;
import java.util.Map;

/**
 * What a layer-wise method plugs into the {@link BlockPipeline}: it observes each group's
 * calibration inputs, then replaces the group's linears. Lifecycle per block: for each group,
 * {@code observe} (once per chunk of sequences) → {@code compress}; then {@code blockDone}.
 */
public interface BlockMethod {
    /**
     * One chunk of the inputs shared by {@code group}'s members.
     *
     * @param x (n, d_in), valid only during the call
     */
    void observe(int layer, Group group, float[] x, int n, int dIn);

    /**
     * Compresses the group's members after all its inputs were observed. Returns the replacements
     * (any subset of {@code group.members()}; empty keeps the layer as is). {@code blockArena} holds
     * scratch (widened weights, Hessians) and may hold the replacements themselves: it stays open
     * until the block's output has been propagated and {@link #blockDone} has returned. Linears the
     * model keeps after the pipeline (e.g. to be evaluated) must live elsewhere, or be put back by
     * {@code blockDone}.
     *
     * @param current the layer with the groups compressed so far
     */
    Map<Proj, Linear> compress(int layer, Group group, Layer current, Arena blockArena);

    /**
     * Whether the method needs block {@code layer}'s calibration inputs. A method that already holds
     * the block's statistics (e.g. Hessians from a cache) returns false: the pipeline then runs no
     * observation forward for that block, calls {@link #compress} for its groups without {@link #observe},
     * and stops propagating (and embedding) once no later block needs inputs. Asked once per block,
     * before the run starts.
     */
    default boolean needsInputs(int layer) {
        return true;
    }

    /**
     * After the last group of the block and the propagation of its output, before its arena closes
     * (e.g. write the block's tensors, or put back the original layer).
     */
    default void blockDone(int layer, Layer compressed, Arena blockArena) {}
}
