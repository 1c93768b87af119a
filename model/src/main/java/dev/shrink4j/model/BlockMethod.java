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

    /**
     * Resume: what the method knows about block {@code layer} besides the linears it installed (report
     * rows, totals, progress details), stored with them by {@link BlockCheckpoint} once the block's groups
     * are compressed. JSON values only (doubles as {@link Resume#real} strings).
     */
    default Map<String, Object> blockRecord(int layer) {
        return Map.of();
    }

    /**
     * Resume: the arena the stored replacements of block {@code layer} are read into (as {@link #compress}
     * would have put them); {@code current} is the block's layer before any replacement.
     */
    default Arena restoreArena(int layer, Layer current, Arena blockArena) {
        return blockArena;
    }

    /**
     * Resume: block {@code layer} was finished by an interrupted run; {@code linears} are the replacements
     * its {@link #compress} calls returned (already installed in the model, in group order) and
     * {@code record} what {@link #blockRecord} returned. The method hands them on as it would have
     * (sinks, reports); no {@link #observe} or {@link #compress} is called for the block, and
     * {@link #blockDone} follows as usual. A method that cannot resume keeps this default.
     *
     * @param original the block's layer before any replacement
     */
    default void restored(int layer, Layer original, Map<Proj, Linear> linears, Map<String, Object> record) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot resume");
    }
}
