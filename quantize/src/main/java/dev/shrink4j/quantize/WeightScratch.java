package dev.shrink4j.quantize;

import dev.shrink4j.tensors.ShrinkException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One F32 buffer shaped like a set of weights (a region per tensor name), for the PQI accumulators
 * (docs/methods/pqi-requant.md §2: "one fp32 buffer shaped like the weights") and ReQuant's Fisher
 * diagonal (§4). Off the heap: either an
 * anonymous segment, or a memory-mapped scratch file (deleted on close), whose pages are page cache the
 * kernel may write back and drop rather than RssAnon — what a model with billions of weights needs.
 */
final class WeightScratch implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Floats moved through the heap at once by {@link #add}. */
    private static final int CHUNK = 1 << 16;

    private final Arena arena = Arena.ofShared();
    private final Map<String, MemorySegment> regions = new LinkedHashMap<>();
    private final Path file; // null: anonymous memory

    /**
     * @param sizes tensor name → number of weights
     * @param dir   directory for a mapped scratch file, or null for anonymous off-heap memory
     */
    WeightScratch(Map<String, Long> sizes, Path dir) {
        long total = 0;
        for (long n : sizes.values()) total += n;
        long bytes = Math.max(4, total * 4);
        MemorySegment all;
        if (dir == null) {
            file = null;
            all = arena.allocate(bytes, 64); // zero-filled
        } else {
            try {
                Files.createDirectories(dir);
                file = Files.createTempFile(dir, ".shrink4j-scratch-", ".f32");
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    ch.truncate(0);
                    ch.write(java.nio.ByteBuffer.allocate(1), bytes - 1); // sparse file of zeros
                    all = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
                }
            } catch (IOException e) {
                throw new ShrinkException("cannot create a " + bytes + "-byte scratch file in " + dir + " (" + e.getMessage() + ")", e);
            }
        }
        long at = 0;
        for (Map.Entry<String, Long> e : sizes.entrySet()) {
            regions.put(e.getKey(), all.asSlice(at * 4, e.getValue() * 4));
            at += e.getValue();
        }
    }

    /** The region of {@code name}, (numel) F32. */
    MemorySegment region(String name) {
        MemorySegment s = regions.get(name);
        if (s == null) throw new IllegalArgumentException("no scratch region for " + name);
        return s;
    }

    Iterable<String> names() {
        return regions.keySet();
    }

    /** region(name) += scale · v (v has the region's length). */
    void add(String name, float[] v, float scale) {
        MemorySegment r = region(name);
        long n = r.byteSize() / 4;
        if (v.length != n) throw new IllegalArgumentException(name + ": " + v.length + " values for a region of " + n);
        float[] buf = new float[(int) Math.min(CHUNK, n)];
        for (long at = 0; at < n; at += CHUNK) {
            int len = (int) Math.min(CHUNK, n - at);
            MemorySegment.copy(r, F32, at * 4, buf, 0, len);
            for (int i = 0; i < len; i++) buf[i] += scale * v[(int) at + i];
            MemorySegment.copy(buf, 0, r, F32, at * 4, len);
        }
    }

    /** region(name) += v ⊙ v (a Fisher diagonal: squared per-sequence gradients summed, docs/methods/squeezellm.md §1). */
    void addSquares(String name, float[] v) {
        MemorySegment r = region(name);
        long n = r.byteSize() / 4;
        if (v.length != n) throw new IllegalArgumentException(name + ": " + v.length + " values for a region of " + n);
        float[] buf = new float[(int) Math.min(CHUNK, n)];
        for (long at = 0; at < n; at += CHUNK) {
            int len = (int) Math.min(CHUNK, n - at);
            MemorySegment.copy(r, F32, at * 4, buf, 0, len);
            for (int i = 0; i < len; i++) buf[i] += v[(int) at + i] * v[(int) at + i];
            MemorySegment.copy(buf, 0, r, F32, at * 4, len);
        }
    }

    /** The region of {@code name} as a heap array (for one tensor at a time). */
    float[] read(String name) {
        return region(name).toArray(F32);
    }

    /** Zeroes every region. */
    void clear() {
        for (MemorySegment s : regions.values()) s.fill((byte) 0);
    }

    @Override
    public void close() {
        arena.close();
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a leftover scratch file in the output's temporary directory is harmless
            }
        }
    }
}
