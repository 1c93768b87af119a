package dev.shrink4j.tensors.gguf;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.GgufBlockWeight;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One memory-mapped GGUF v3 file (the layout of llama.cpp's {@code docs/gguf.md}): header, typed
 * metadata, tensor infos, padding to {@code general.alignment}, tensor data. The file is mapped once
 * into the caller's arena and every tensor is a zero-copy slice.
 *
 * <p>Strict like {@link dev.shrink4j.tensors.io.SafetensorsFile}: every length is checked against the
 * bytes that remain before it is used, strings must be UTF-8, keys and tensor names unique, types
 * known, {@code 1 ≤ n_dims ≤ 4}, rows a whole number of blocks, offsets aligned, inside the file and
 * not overlapping. Each refusal is one line naming the file and the item.
 */
public final class GgufFile {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int VERSION = 3;
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";
    /** ggml's GGML_MAX_DIMS. */
    public static final int MAX_DIMS = 4;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * One tensor as the file declares it.
     *
     * @param ne ggml's dimensions, fastest first: a (rows, cols) matrix has ne = [cols, rows]
     * @param offset byte offset from the start of the data section
     */
    public record TensorEntry(String name, GgufType type, long[] ne, long offset, long bytes) {
        /** Row-major shape (ne reversed), the shape shrink4j and Hugging Face use. */
        public Shape shape() {
            long[] d = new long[ne.length];
            for (int i = 0; i < ne.length; i++) d[i] = ne[ne.length - 1 - i];
            return Shape.of(d);
        }

        public long numel() {
            long n = 1;
            for (long d : ne) n *= d;
            return n;
        }
    }

    private final Path path;
    private final Map<String, GgufValue> metadata;
    private final Map<String, TensorEntry> tensors;
    private final MemorySegment data; // the data section
    private final int alignment;

    private GgufFile(Path path, Map<String, GgufValue> metadata, Map<String, TensorEntry> tensors, MemorySegment data, int alignment) {
        this.path = path;
        this.metadata = metadata;
        this.tensors = tensors;
        this.data = data;
        this.alignment = alignment;
    }

    /** Whether {@code file} starts with the GGUF magic (false for directories and short files). */
    public static boolean looksLikeGguf(Path file) {
        if (!java.nio.file.Files.isRegularFile(file)) return false;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            return ch.read(b, 0) == 4 && b.getInt(0) == MAGIC;
        } catch (IOException e) {
            return false;
        }
    }

    /** Maps and validates {@code file}; the mapping lives as long as {@code arena}. */
    public static GgufFile open(Path file, Arena arena) {
        MemorySegment all;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        } catch (IOException e) {
            throw new ShrinkException(file + ": cannot read: " + e.getMessage(), e);
        }
        return new Parser(file, all).parse();
    }

    /** Reads the header of an already mapped (or in-memory) GGUF image; {@code file} names it in errors. */
    public static GgufFile parse(Path file, MemorySegment image) {
        return new Parser(file, image).parse();
    }

    private static final class Parser {
        final Path file;
        final MemorySegment all;
        long pos;

        Parser(Path file, MemorySegment all) {
            this.file = file;
            this.all = all;
        }

        GgufFile parse() {
            need(4, "the magic");
            int magic = all.get(U32, pos);
            if (magic != MAGIC) throw bad("not a GGUF file (magic " + String.format("0x%08x", magic) + ", expected \"GGUF\")");
            pos += 4;
            long version = u32("the version");
            if (version != VERSION) throw bad("GGUF version " + version + " is not supported (shrink4j reads version 3)");
            long nTensors = u64("the tensor count");
            long nKv = u64("the metadata count");
            // Every entry takes at least 8 (key/name length) + 4 bytes; larger counts cannot fit.
            if (nTensors < 0 || nTensors > remaining() / 12) throw bad("tensor count " + Long.toUnsignedString(nTensors) + " cannot fit in the file");
            if (nKv < 0 || nKv > remaining() / 12) throw bad("metadata count " + Long.toUnsignedString(nKv) + " cannot fit in the file");
            Map<String, GgufValue> meta = new LinkedHashMap<>();
            for (long i = 0; i < nKv; i++) {
                String key = string("metadata key #" + i);
                long t = u32("the type of metadata \"" + key + "\"");
                GgufValue v = value(t, "metadata \"" + key + "\"", 0);
                if (meta.put(key, v) != null) throw bad("duplicate metadata key \"" + key + "\"");
            }
            int alignment = DEFAULT_ALIGNMENT;
            GgufValue a = meta.get(ALIGNMENT_KEY);
            if (a != null) {
                if (a.type() != GgufValue.Type.UINT32 || a.asLong() <= 0 || Long.bitCount(a.asLong()) != 1) {
                    throw bad(ALIGNMENT_KEY + " must be a UINT32 power of two, got " + a.type() + " " + a.value());
                }
                alignment = (int) a.asLong();
            }
            Map<String, TensorEntry> infos = new LinkedHashMap<>();
            for (long i = 0; i < nTensors; i++) {
                String name = string("tensor name #" + i);
                String item = "tensor \"" + name + "\"";
                long nDims = u32(item + " n_dims");
                if (nDims < 1 || nDims > MAX_DIMS) throw bad(item + ": n_dims " + nDims + " outside 1.." + MAX_DIMS);
                long[] ne = new long[(int) nDims];
                long numel = 1;
                for (int d = 0; d < nDims; d++) {
                    ne[d] = u64(item + " dimension " + d);
                    if (ne[d] <= 0) throw bad(item + ": dimension " + d + " is " + Long.toUnsignedString(ne[d]) + " (must be positive)");
                    try {
                        numel = Math.multiplyExact(numel, ne[d]);
                    } catch (ArithmeticException e) {
                        throw bad(item + ": element count overflows");
                    }
                }
                long typeId = u32(item + " type");
                GgufType type = GgufType.byId((int) typeId).filter(x -> typeId <= Integer.MAX_VALUE)
                        .orElseThrow(() -> bad(item + ": unknown or unsupported ggml type " + typeId
                                + " (shrink4j reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K)"));
                if (ne[0] % type.blockSize != 0) throw bad(item + ": row length " + ne[0] + " is not a multiple of the " + type + " block size " + type.blockSize);
                long offset = u64(item + " offset");
                if (offset < 0 || offset % alignment != 0) throw bad(item + ": offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
                if (infos.put(name, new TensorEntry(name, type, ne, offset, type.bytes(numel))) != null) {
                    throw bad("duplicate tensor name \"" + name + "\"");
                }
            }
            long dataStart = align(pos, alignment);
            if (dataStart > all.byteSize()) throw bad("truncated: the data section would start at " + dataStart + " but the file is " + all.byteSize() + " bytes");
            MemorySegment data = all.asSlice(dataStart);
            List<TensorEntry> sorted = new ArrayList<>(infos.values());
            sorted.sort(Comparator.comparingLong(TensorEntry::offset));
            long end = 0;
            for (TensorEntry t : sorted) {
                if (t.offset() < end) throw bad("tensor \"" + t.name() + "\": data at offset " + t.offset() + " overlaps the previous tensor");
                if (t.bytes() > data.byteSize() || t.offset() > data.byteSize() - t.bytes()) {
                    throw bad("tensor \"" + t.name() + "\": data [" + t.offset() + ", " + (t.offset() + t.bytes()) + ") lies outside the "
                            + data.byteSize() + "-byte data section (truncated file?)");
                }
                end = t.offset() + t.bytes();
            }
            return new GgufFile(file, Collections.unmodifiableMap(meta), Collections.unmodifiableMap(infos), data, alignment);
        }

        GgufValue value(long t, String item, int depth) {
            if (t < 0 || t >= GgufValue.Type.values().length) throw bad(item + ": unknown value type " + t);
            GgufValue.Type type = GgufValue.Type.values()[(int) t];
            return switch (type) {
                case UINT8 -> new GgufValue(type, (long) Byte.toUnsignedInt(bytes(1, item)[0]));
                case INT8 -> new GgufValue(type, (long) bytes(1, item)[0]);
                case UINT16 -> { need(2, item); long v = Short.toUnsignedLong(all.get(U16, pos)); pos += 2; yield new GgufValue(type, v); }
                case INT16 -> { need(2, item); long v = all.get(U16, pos); pos += 2; yield new GgufValue(type, v); }
                case UINT32 -> new GgufValue(type, u32(item));
                case INT32 -> { need(4, item); long v = all.get(U32, pos); pos += 4; yield new GgufValue(type, v); }
                case UINT64, INT64 -> new GgufValue(type, u64(item));
                case FLOAT32 -> { need(4, item); double v = all.get(F32, pos); pos += 4; yield new GgufValue(type, v); }
                case FLOAT64 -> { need(8, item); double v = all.get(F64, pos); pos += 8; yield new GgufValue(type, v); }
                case BOOL -> {
                    byte b = bytes(1, item)[0];
                    if (b != 0 && b != 1) throw bad(item + ": BOOL byte " + b + " is neither 0 nor 1");
                    yield new GgufValue(type, b == 1);
                }
                case STRING -> new GgufValue(type, string(item));
                case ARRAY -> {
                    if (depth > 8) throw bad(item + ": arrays nested deeper than 8");
                    long et = u32(item + " element type");
                    long n = u64(item + " length");
                    if (n < 0 || n > remaining()) throw bad(item + ": array length " + Long.toUnsignedString(n) + " runs past the end of the file");
                    List<Object> values = new ArrayList<>((int) Math.min(n, 1 << 20));
                    GgufValue.Type elem = null;
                    for (long i = 0; i < n; i++) {
                        GgufValue v = value(et, item + "[" + i + "]", depth + 1);
                        elem = v.type();
                        values.add(v.value());
                    }
                    if (elem == null) {
                        if (et >= GgufValue.Type.values().length) throw bad(item + ": unknown array element type " + et);
                        elem = GgufValue.Type.values()[(int) et];
                    }
                    yield new GgufValue(type, new GgufValue.Array(elem, values));
                }
            };
        }

        String string(String item) {
            long len = u64(item + " length");
            if (len < 0 || len > remaining()) throw bad(item + ": string length " + Long.toUnsignedString(len) + " runs past the end of the file");
            byte[] b = bytes((int) Math.min(len, Integer.MAX_VALUE - 8), item);
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                throw bad(item + ": not valid UTF-8");
            }
        }

        byte[] bytes(int n, String item) {
            need(n, item);
            byte[] b = all.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
            pos += n;
            return b;
        }

        long u32(String item) {
            need(4, item);
            long v = Integer.toUnsignedLong(all.get(U32, pos));
            pos += 4;
            return v;
        }

        long u64(String item) {
            need(8, item);
            long v = all.get(U64, pos);
            pos += 8;
            return v;
        }

        long remaining() {
            return all.byteSize() - pos;
        }

        void need(long n, String item) {
            if (n > remaining()) throw bad("truncated while reading " + item + " at byte " + pos + " (file is " + all.byteSize() + " bytes)");
        }

        ShrinkException bad(String what) {
            return GgufFile.bad(file, what);
        }
    }

    static long align(long x, long alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    static ShrinkException bad(Path file, String what) {
        return new ShrinkException(file + ": malformed GGUF: " + what);
    }

    public Path path() {
        return path;
    }

    public int alignment() {
        return alignment;
    }

    /** All metadata, in file order. */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    /** A required metadata value; a missing key is a user error naming the file. */
    public GgufValue get(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) throw new ShrinkException(path + ": GGUF metadata has no \"" + key + "\"");
        return v;
    }

    /** Tensor infos in file order. */
    public Map<String, TensorEntry> tensors() {
        return tensors;
    }

    public TensorEntry entry(String name) {
        TensorEntry e = tensors.get(name);
        if (e == null) throw new ShrinkException(path + ": missing tensor \"" + name + "\"");
        return e;
    }

    /** The raw bytes of a tensor, zero-copy. */
    public MemorySegment bytes(String name) {
        TensorEntry e = entry(name);
        return data.asSlice(e.offset(), e.bytes());
    }

    /** A zero-copy row-major view of an F32/F16/BF16 tensor. */
    public Tensor tensor(String name) {
        TensorEntry e = entry(name);
        DType dtype = switch (e.type()) {
            case F32 -> DType.F32;
            case F16 -> DType.F16;
            case BF16 -> DType.BF16;
            default -> throw new ShrinkException(path + ": tensor \"" + name + "\" is " + e.type() + ", not a float tensor; read it as a block weight");
        };
        return Tensor.wrap(dtype, e.shape(), bytes(name));
    }

    /** A (rows, cols) block-quantized or float weight, zero-copy; higher ranks fold into rows. */
    public GgufBlockWeight weight(String name) {
        TensorEntry e = entry(name);
        long rows = e.numel() / e.ne()[0];
        return new GgufBlockWeight(e.type(), Math.toIntExact(rows), Math.toIntExact(e.ne()[0]), bytes(name));
    }

    /** Total bytes of the data section's tensors. */
    public long dataBytes() {
        long n = 0;
        for (TensorEntry e : tensors.values()) n += e.bytes();
        return n;
    }
}
