package dev.shrink4j.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The hidden states of a whole calibration set between two blocks (Z_b of the block pipeline,
 * docs/methods/pipeline.md §2): (sequences, seqLen, hidden) F32 in one off-heap segment, addressed with
 * long byte offsets. At 128 × 2048 × 8192 that is 2³¹ floats (8 GiB), one past what an int index reaches, so no Java
 * array can hold it; passes copy a few sequences at a time into heap arrays ({@link #read},
 * {@link #write}), whose size the caller bounds (rows per pass). The segment belongs to the arena
 * it was allocated in (or mapped into); this class owns no memory.
 */
public final class Activations {
    /**
     * Shapes and offsets of the store, kept apart from any memory so the arithmetic can be checked
     * at sizes nobody wants to allocate in a test.
     */
    public record Layout(int sequences, int seqLen, int hidden) {
        public Layout {
            if (sequences < 0 || seqLen < 1 || hidden < 1) {
                throw new IllegalArgumentException("bad activation layout " + sequences + " × " + seqLen + " × " + hidden);
            }
            Math.multiplyExact(seqLen, hidden); // one sequence must fit in a heap array
        }

        /** Floats in one sequence (seqLen · hidden). */
        public int floatsPerSequence() {
            return seqLen * hidden;
        }

        /** Floats in the whole store; may exceed {@link Integer#MAX_VALUE}. */
        public long floats() {
            return (long) sequences * floatsPerSequence();
        }

        public long byteSize() {
            return floats() * Float.BYTES;
        }

        /** Byte offset of sequence {@code s}'s first float. */
        public long byteOffset(int s) {
            if (s < 0 || s > sequences) throw new IndexOutOfBoundsException("sequence " + s + " of " + sequences);
            return (long) s * floatsPerSequence() * Float.BYTES;
        }

        /** Floats in {@code count} sequences, the size of one pass's heap array; refuses passes an array cannot hold. */
        public int passFloats(int count) {
            return Math.multiplyExact(count, floatsPerSequence());
        }
    }

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;

    private final Layout layout;
    private final MemorySegment z; // (sequences, seqLen, hidden) F32

    private Activations(Layout layout, MemorySegment z) {
        if (z.byteSize() < layout.byteSize()) {
            throw new IllegalArgumentException("segment of " + z.byteSize() + " bytes is smaller than " + layout + " (" + layout.byteSize() + " bytes)");
        }
        this.layout = layout;
        this.z = z;
    }

    /** A store of {@code layout} allocated (zeroed) in {@code arena}. */
    public static Activations allocate(Arena arena, Layout layout) {
        return new Activations(layout, arena.allocate(layout.byteSize(), 64));
    }

    /** A store over an existing segment of at least {@code layout.byteSize()} bytes (e.g. a mapped file). */
    public static Activations over(MemorySegment segment, Layout layout) {
        return new Activations(layout, segment);
    }

    public Layout layout() {
        return layout;
    }

    /**
     * Copies sequences [first, first + count) out of the store.
     *
     * @param dst (count · seqLen, hidden) or longer; Modified (the first count · seqLen rows)
     */
    public void read(int first, int count, float[] dst) {
        check(first, count, dst);
        MemorySegment.copy(z, F32, layout.byteOffset(first), dst, 0, layout.passFloats(count));
    }

    /**
     * Copies {@code count} sequences into the store at [first, first + count).
     *
     * @param src (count · seqLen, hidden) or longer
     */
    public void write(int first, int count, float[] src) {
        check(first, count, src);
        MemorySegment.copy(src, 0, z, F32, layout.byteOffset(first), layout.passFloats(count));
    }

    /** Embeds each sequence of {@code sequences} (all of length seqLen) into the store, one at a time. */
    public void embed(LlamaModel model, int[][] sequences) {
        if (sequences.length != layout.sequences()) {
            throw new IllegalArgumentException(sequences.length + " sequences for a store of " + layout.sequences());
        }
        float[] row = new float[layout.floatsPerSequence()];
        for (int s = 0; s < sequences.length; s++) {
            if (sequences[s].length != layout.seqLen()) throw new IllegalArgumentException("calibration sequences differ in length");
            model.embed(sequences[s], row);
            write(s, 1, row);
        }
    }

    private void check(int first, int count, float[] a) {
        if (first < 0 || count < 0 || first > layout.sequences() - count) {
            throw new IndexOutOfBoundsException("sequences [" + first + ", " + ((long) first + count) + ") of " + layout.sequences());
        }
        if (a.length < layout.passFloats(count)) {
            throw new IllegalArgumentException(count + " sequences need " + layout.passFloats(count) + " floats, the array has " + a.length);
        }
    }
}
