package dev.shrink4j.tensors.io;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One memory-mapped {@code .safetensors} file. The whole file is mapped once into the caller's
 * {@link Arena}; every tensor is a zero-copy slice of that mapping, so opening costs only the header
 * parse and reading a tensor costs only the page faults of the bytes touched.
 *
 * <p>Validation is strict, because a silently misread weight is worse than a refused file: the header
 * length must fit the file and a sane bound, the header must be valid UTF-8 JSON without duplicate
 * names, every dtype known, every byte range exactly {@code numel × dtype size}, inside the data
 * section, and the ranges must tile the data section without gaps or overlaps.
 */
public final class SafetensorsFile {
    /** Headers above this are refused; real headers are kilobytes to a few megabytes. */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    private final Path path;
    private final MemorySegment data; // the data section: file bytes after 8 + headerLength
    private final Map<String, TensorInfo> infos; // header order
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, MemorySegment data, Map<String, TensorInfo> infos, Map<String, String> metadata) {
        this.path = path;
        this.data = data;
        this.infos = infos;
        this.metadata = metadata;
    }

    /** Maps and validates {@code file}; the mapping lives as long as {@code arena}. */
    public static SafetensorsFile open(Path file, Arena arena) {
        long size;
        MemorySegment all;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            size = ch.size();
            if (size < 8) {
                throw bad(file, "file is " + size + " bytes, shorter than the 8-byte header length");
            }
            all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException e) {
            throw new ShrinkException(file + ": cannot read: " + e.getMessage(), e);
        }
        long headerLen = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen < 0 || headerLen > size - 8) {
            throw bad(file, "header length " + Long.toUnsignedString(headerLen) + " extends beyond the file (" + size + " bytes)");
        }
        if (headerLen > MAX_HEADER_BYTES) {
            throw bad(file, "header length " + headerLen + " exceeds the " + MAX_HEADER_BYTES + "-byte limit");
        }
        byte[] headerBytes = all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        String headerText;
        try {
            headerText = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(headerBytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw bad(file, "header is not valid UTF-8");
        }
        Object parsed;
        try {
            parsed = Json.parse(headerText.stripTrailing());
        } catch (Json.JsonException e) {
            throw bad(file, "header is not valid JSON: " + e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> header)) {
            throw bad(file, "header is not a JSON object");
        }
        MemorySegment dataSection = all.asSlice(8 + headerLen);
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : header.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                if (!(e.getValue() instanceof Map<?, ?> m)) {
                    throw bad(file, "__metadata__ is not an object");
                }
                for (Map.Entry<?, ?> me : m.entrySet()) {
                    if (!(me.getValue() instanceof String v)) {
                        throw bad(file, "__metadata__ value for \"" + me.getKey() + "\" is not a string");
                    }
                    metadata.put((String) me.getKey(), v);
                }
                continue;
            }
            infos.put(name, parseEntry(file, name, e.getValue(), dataSection.byteSize()));
        }
        checkTiling(file, infos.values(), dataSection.byteSize());
        return new SafetensorsFile(file, dataSection, Collections.unmodifiableMap(infos), Collections.unmodifiableMap(metadata));
    }

    private static TensorInfo parseEntry(Path file, String name, Object value, long dataSize) {
        if (!(value instanceof Map<?, ?> m)) {
            throw bad(file, "tensor \"" + name + "\": entry is not an object");
        }
        if (!(m.get("dtype") instanceof String dtypeName)) {
            throw bad(file, "tensor \"" + name + "\": missing dtype");
        }
        DType dtype = DType.fromSafetensors(dtypeName)
                .orElseThrow(() -> bad(file, "tensor \"" + name + "\": unknown dtype " + dtypeName));
        if (!(m.get("shape") instanceof List<?> shapeList)) {
            throw bad(file, "tensor \"" + name + "\": missing shape");
        }
        long[] dims = new long[shapeList.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!(shapeList.get(i) instanceof Long d) || d < 0) {
                throw bad(file, "tensor \"" + name + "\": shape " + shapeList + " has an invalid dimension");
            }
            dims[i] = d;
        }
        if (!(m.get("data_offsets") instanceof List<?> offs) || offs.size() != 2
                || !(offs.get(0) instanceof Long begin) || !(offs.get(1) instanceof Long end)) {
            throw bad(file, "tensor \"" + name + "\": data_offsets must be two integers");
        }
        if (begin < 0 || end < begin || end > dataSize) {
            throw bad(file, "tensor \"" + name + "\": data_offsets [" + begin + ", " + end + "] outside the data section of " + dataSize + " bytes");
        }
        Shape shape = Shape.of(dims);
        long expected;
        try {
            expected = Math.multiplyExact(shape.numel(), (long) dtype.byteSize());
        } catch (ArithmeticException overflow) {
            throw bad(file, "tensor \"" + name + "\": shape " + shape + " overflows");
        }
        if (end - begin != expected) {
            throw bad(file, "tensor \"" + name + "\": " + dtype + " " + shape + " needs " + expected + " bytes but data_offsets span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static void checkTiling(Path file, java.util.Collection<TensorInfo> infos, long dataSize) {
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expect = 0;
        for (TensorInfo t : sorted) {
            if (t.begin() < expect) {
                throw bad(file, "tensor \"" + t.name() + "\": byte range [" + t.begin() + ", " + t.end() + ") overlaps the previous tensor");
            }
            if (t.begin() > expect) {
                throw bad(file, "tensor \"" + t.name() + "\": byte range starts at " + t.begin() + ", leaving a gap after " + expect + " (ranges must be contiguous)");
            }
            expect = t.end();
        }
        if (expect != dataSize) {
            throw bad(file, "data section is " + dataSize + " bytes but tensors cover " + expect);
        }
    }

    private static ShrinkException bad(Path file, String what) {
        return new ShrinkException(file + ": malformed safetensors: " + what);
    }

    public Path path() {
        return path;
    }

    /** Tensor names in header order. */
    public List<String> names() {
        return List.copyOf(infos.keySet());
    }

    public boolean contains(String name) {
        return infos.containsKey(name);
    }

    public TensorInfo info(String name) {
        TensorInfo i = infos.get(name);
        if (i == null) {
            throw new ShrinkException(path + ": no tensor named \"" + name + "\"");
        }
        return i;
    }

    public Map<String, TensorInfo> infos() {
        return infos;
    }

    /** The tensor as a zero-copy view of the mapping. */
    public Tensor tensor(String name) {
        TensorInfo i = info(name);
        return Tensor.wrap(i.dtype(), i.shape(), data.asSlice(i.begin(), i.byteSize()));
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The whole data section, zero-copy (for checksums and bulk reads). */
    public MemorySegment tensorBytes() {
        return data;
    }

    /** Bytes of the data section (sum of all tensors). */
    public long dataBytes() {
        return data.byteSize();
    }

    static long fileSize(Path p) throws IOException {
        return Files.size(p);
    }
}
