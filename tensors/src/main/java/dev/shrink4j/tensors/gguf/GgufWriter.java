package dev.shrink4j.tensors.gguf;

import dev.shrink4j.tensors.ShrinkException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Writes one GGUF v3 file the way every shrink4j writer ends: tensor data streams to a hidden side
 * file as it arrives (each tensor padded to the alignment), {@link #commit} writes header + data
 * (an in-kernel copy) to a hidden temp file, re-reads it with {@link GgufFile} comparing tensor infos
 * and a CRC32C of the data, and renames it into place. Closing an uncommitted writer deletes both.
 */
public final class GgufWriter implements AutoCloseable {
    private static final int CHUNK = 1 << 24;

    private record Pending(String name, GgufType type, long[] ne, long offset, long bytes) {}

    private final Path target;
    private final Path dataFile;
    private final Path tmpFile;
    private final FileChannel data;
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final Map<String, Pending> tensors = new LinkedHashMap<>();
    private final CRC32C crc = new CRC32C();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;
    private long offset;
    private boolean committed;

    /** Starts writing {@code file}; an existing file is refused unless {@code force}. */
    public GgufWriter(Path file, boolean force) {
        this.target = file.toAbsolutePath().normalize();
        if (Files.exists(target) && !force) throw new ShrinkException(target + ": output already exists (use --force to replace it)");
        if (Files.isDirectory(target)) throw new ShrinkException(target + ": is a directory, expected a .gguf file name");
        Path dir = target.getParent();
        long pid = ProcessHandle.current().pid();
        this.dataFile = dir.resolve("." + target.getFileName() + ".data.tmp-" + pid);
        this.tmpFile = dir.resolve("." + target.getFileName() + ".tmp-" + pid);
        try {
            Files.deleteIfExists(dataFile);
            this.data = FileChannel.open(dataFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new ShrinkException(dataFile + ": cannot create: " + e.getMessage(), e);
        }
    }

    /** Sets one metadata entry (later puts of the same key replace it, keeping its position). */
    public GgufWriter put(String key, GgufValue value) {
        if (key.equals(GgufFile.ALIGNMENT_KEY)) {
            // The data is streamed as tensors arrive, so the alignment must be known before the first one.
            long a = value.type() == GgufValue.Type.UINT32 ? value.asLong() : -1;
            if (a <= 0 || Long.bitCount(a) != 1) throw new IllegalArgumentException(GgufFile.ALIGNMENT_KEY + " must be a UINT32 power of two, got " + value);
            if (!tensors.isEmpty() && a != alignment) throw new IllegalArgumentException(GgufFile.ALIGNMENT_KEY + " set to " + a + " after tensors were written at " + alignment);
            alignment = (int) a;
        }
        metadata.put(key, value);
        return this;
    }

    /**
     * Appends a tensor whose bytes are already in {@code type}'s layout.
     *
     * @param shape row-major dimensions (written reversed, as ggml's ne)
     * @param bytes exactly {@code type.bytes(numel)} bytes
     */
    public void add(String name, GgufType type, long[] shape, MemorySegment bytes) {
        if (tensors.containsKey(name)) throw new IllegalArgumentException("duplicate tensor \"" + name + "\"");
        if (shape.length < 1 || shape.length > GgufFile.MAX_DIMS) throw new IllegalArgumentException("tensor \"" + name + "\": rank " + shape.length);
        long[] ne = new long[shape.length];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            ne[i] = shape[shape.length - 1 - i];
            numel = Math.multiplyExact(numel, ne[i]);
        }
        if (ne[0] % type.blockSize != 0) throw new IllegalArgumentException("tensor \"" + name + "\": row length " + ne[0] + " is not a multiple of " + type.blockSize);
        long n = type.bytes(numel);
        if (bytes.byteSize() != n) throw new IllegalArgumentException("tensor \"" + name + "\": " + type + " needs " + n + " bytes, got " + bytes.byteSize());
        try {
            for (long done = 0; done < n; ) {
                int c = (int) Math.min(CHUNK, n - done);
                writeFully(bytes.asSlice(done, c).asByteBuffer());
                done += c;
            }
            long padded = GgufFile.align(offset + n, alignment);
            writeFully(ByteBuffer.allocate((int) (padded - offset - n)));
        } catch (IOException e) {
            throw new ShrinkException(dataFile + ": write failed for tensor \"" + name + "\": " + e.getMessage(), e);
        }
        tensors.put(name, new Pending(name, type, ne, offset, n));
        offset = GgufFile.align(offset + n, alignment);
    }

    private void writeFully(ByteBuffer buf) throws IOException {
        crc.update(buf.duplicate());
        while (buf.hasRemaining()) data.write(buf);
    }

    /** Writes, verifies and renames the file into place. */
    public void commit() {
        byte[] header = header();
        try {
            data.force(false);
            try (FileChannel out = FileChannel.open(tmpFile, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
                 FileChannel in = FileChannel.open(dataFile, StandardOpenOption.READ)) {
                ByteBuffer h = ByteBuffer.wrap(header);
                while (h.hasRemaining()) out.write(h);
                long pos = 0, size = in.size();
                while (pos < size) pos += in.transferTo(pos, size - pos, out);
                out.force(true);
            }
            verify();
            try {
                Files.move(tmpFile, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmpFile, target, StandardCopyOption.REPLACE_EXISTING);
            }
            committed = true;
        } catch (IOException e) {
            throw new ShrinkException(target + ": cannot write: " + e.getMessage(), e);
        }
    }

    private void verify() {
        try (Arena arena = Arena.ofConfined()) {
            GgufFile f = GgufFile.open(tmpFile, arena);
            if (f.tensors().size() != tensors.size() || f.metadata().size() != metadata.size()) {
                throw new ShrinkException(target + ": verification failed: re-read " + f.tensors().size() + " tensors and " + f.metadata().size() + " metadata entries");
            }
            CRC32C check = new CRC32C();
            long expect = 0;
            for (Pending p : tensors.values()) {
                GgufFile.TensorEntry e = f.entry(p.name());
                if (e.type() != p.type() || e.offset() != p.offset() || !java.util.Arrays.equals(e.ne(), p.ne())) {
                    throw new ShrinkException(target + ": verification failed for tensor \"" + p.name() + "\"");
                }
                check.update(f.bytes(p.name()).asByteBuffer());
                long pad = GgufFile.align(p.offset() + p.bytes(), alignment) - p.offset() - p.bytes();
                check.update(new byte[(int) pad]);
                expect = p.offset() + p.bytes() + pad;
            }
            if (expect != offset || check.getValue() != crc.getValue()) {
                throw new ShrinkException(target + ": verification failed: tensor data checksum differs from what was written");
            }
        }
    }

    private byte[] header() {
        Out o = new Out();
        o.u32(GgufFile.MAGIC);
        o.u32(GgufFile.VERSION);
        o.u64(tensors.size());
        o.u64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            o.string(e.getKey());
            o.u32(e.getValue().type().ordinal());
            o.value(e.getValue().type(), e.getValue().value());
        }
        for (Pending p : tensors.values()) {
            o.string(p.name());
            o.u32(p.ne().length);
            for (long d : p.ne()) o.u64(d);
            o.u32(p.type().id);
            o.u64(p.offset());
        }
        while (o.size() % alignment != 0) o.write(0);
        return o.toByteArray();
    }

    /** Little-endian header bytes. */
    private static final class Out extends ByteArrayOutputStream {
        final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        void u32(long v) {
            scratch.clear();
            scratch.putInt((int) v);
            write(scratch.array(), 0, 4);
        }

        void u64(long v) {
            scratch.clear();
            scratch.putLong(v);
            write(scratch.array(), 0, 8);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            write(b, 0, b.length);
        }

        void value(GgufValue.Type type, Object v) {
            switch (type) {
                case UINT8, INT8 -> write((int) (long) (Long) v);
                case UINT16, INT16 -> { scratch.clear(); scratch.putShort((short) (long) (Long) v); write(scratch.array(), 0, 2); }
                case UINT32, INT32 -> u32((Long) v);
                case UINT64, INT64 -> u64((Long) v);
                case FLOAT32 -> u32(Float.floatToRawIntBits((float) (double) (Double) v));
                case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) v));
                case BOOL -> write((Boolean) v ? 1 : 0);
                case STRING -> string((String) v);
                case ARRAY -> {
                    GgufValue.Array a = (GgufValue.Array) v;
                    u32(a.elementType().ordinal());
                    u64(a.values().size());
                    for (Object x : a.values()) value(a.elementType(), x);
                }
            }
        }
    }

    /** Names of the tensors added so far, in order. */
    public List<String> names() {
        return new ArrayList<>(tensors.keySet());
    }

    @Override public void close() {
        try {
            data.close();
            Files.deleteIfExists(dataFile);
            if (!committed) Files.deleteIfExists(tmpFile);
        } catch (IOException ignored) {
            // best effort cleanup of hidden temp files
        }
    }
}
