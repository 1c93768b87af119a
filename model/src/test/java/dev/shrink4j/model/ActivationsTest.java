package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ActivationsTest {
    /** 128 × 2048 × 8192: a 1B-class hidden size at the default calibration, 2³¹ floats. */
    private static final Activations.Layout LARGE = new Activations.Layout(128, 2048, 8192);

    @Test
    void offsetsOfACalibrationBeyondTwoToThe31FloatsAreLong() {
        // Only arithmetic: nothing of this size is allocated.
        assertEquals(1L << 31, LARGE.floats());
        assertTrue(LARGE.floats() > Integer.MAX_VALUE);
        assertEquals(8L << 30, LARGE.byteSize());
        assertEquals(127L * 2048 * 8192 * Float.BYTES, LARGE.byteOffset(127));
        assertEquals(LARGE.byteSize(), LARGE.byteOffset(128));
        // What an int index (sequence · T · hidden) would have given for the last sequence's end:
        assertTrue(128 * 2048 * 8192 < 0, "int arithmetic wraps here");
        // One pass stays an array: 2048 tokens of 8192 floats.
        assertEquals(2048 * 8192, LARGE.passFloats(1));
        assertThrows(ArithmeticException.class, () -> LARGE.passFloats(128), "a pass the heap cannot hold is refused");
    }

    @Test
    void readAndWriteRoundTripSequencesInPlace() {
        Activations.Layout layout = new Activations.Layout(5, 3, 7);
        SplittableRandom r = new SplittableRandom(11);
        float[] all = new float[layout.passFloats(5)];
        for (int i = 0; i < all.length; i++) all[i] = (float) r.nextGaussian();
        try (Arena arena = Arena.ofConfined()) {
            Activations z = Activations.allocate(arena, layout);
            z.write(0, 5, all);
            float[] mid = new float[layout.passFloats(2)];
            z.read(2, 2, mid);
            assertArrayEquals(java.util.Arrays.copyOfRange(all, 2 * 21, 4 * 21), mid);
            assertThrows(IndexOutOfBoundsException.class, () -> z.read(4, 2, new float[layout.passFloats(2)]));
            assertThrows(IllegalArgumentException.class, () -> z.read(0, 2, new float[layout.passFloats(2) - 1]));
        }
    }

    /**
     * A store of 2³¹ + one sequence's floats over a sparse file (8 GiB of address space, a few pages
     * written): the last sequence lands at its long byte offset in the file. This proves the store
     * addresses past 2³¹ floats; it does not run a model forward at that size.
     */
    @Test
    void aStoreOverASparseFileAddressesPastTwoToThe31Floats(@TempDir Path tmp) throws IOException {
        Activations.Layout layout = new Activations.Layout((1 << 22) + 1, 32, 16); // (2²² + 1) · 512 floats
        assertTrue(layout.floats() > Integer.MAX_VALUE);
        Path file = tmp.resolve("z.f32");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(layout.byteSize()); // sparse: no blocks until written
        }
        int last = layout.sequences() - 1;
        float[] seq = new float[layout.floatsPerSequence()];
        for (int i = 0; i < seq.length; i++) seq[i] = i + 0.5f;
        try (Arena arena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, layout.byteSize(), arena);
            Activations z = Activations.over(mapped, layout);
            z.write(last, 1, seq);
            float[] back = new float[seq.length];
            z.read(last, 1, back);
            assertArrayEquals(seq, back);
            mapped.force();
            ByteBuffer raw = ByteBuffer.allocate(Float.BYTES * 2).order(ByteOrder.nativeOrder());
            ch.read(raw, layout.byteOffset(last) + Float.BYTES * (seq.length - 2L));
            raw.flip();
            assertEquals(seq[seq.length - 2], raw.getFloat());
            assertEquals(seq[seq.length - 1], raw.getFloat());
        }
    }
}
