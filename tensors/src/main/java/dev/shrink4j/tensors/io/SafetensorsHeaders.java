package dev.shrink4j.tensors.io;

import dev.shrink4j.tensors.ShrinkException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Sizes from safetensors headers alone, for reports: unlike {@link SafetensorsFile} it maps no data and
 * accepts any dtype string (jlama's Q4 included), so what another tool wrote can be measured too.
 */
public final class SafetensorsHeaders {
    /** A header larger than this is refused (the strict reader's limit is the same order). */
    private static final long MAX_HEADER = 100L << 20;

    private SafetensorsHeaders() {}

    /**
     * Name → stored bytes of every tensor in the directory's safetensors files, read from their headers
     * only: any dtype a format stores (jlama's Q4 included), without mapping the data.
     */
    public static Map<String, Long> tensorBytes(Path dir) {
        Map<String, Long> r = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList()) {
                try (var ch = FileChannel.open(f)) {
                    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                    ch.read(len, 0);
                    long n = len.getLong(0);
                    if (n <= 0 || n > Math.min(ch.size() - 8, MAX_HEADER)) throw new ShrinkException(f + ": malformed safetensors header length " + n);
                    ByteBuffer header = ByteBuffer.allocate((int) n);
                    ch.read(header, 8);
                    Object json;
                    try {
                        json = Json.parse(new String(header.array(), StandardCharsets.UTF_8));
                    } catch (Json.JsonException e) {
                        throw new ShrinkException(f + ": malformed safetensors header: " + e.getMessage(), e);
                    }
                    if (!(json instanceof Map<?, ?> m)) throw new ShrinkException(f + ": malformed safetensors header");
                    for (Map.Entry<?, ?> e : m.entrySet()) {
                        if (e.getKey().equals("__metadata__") || !(e.getValue() instanceof Map<?, ?> t)) continue;
                        if (t.get("data_offsets") instanceof List<?> o && o.size() == 2) {
                            r.put((String) e.getKey(), ((Number) o.get(1)).longValue() - ((Number) o.get(0)).longValue());
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new ShrinkException(dir + ": cannot read its safetensors headers (" + e.getMessage() + ")", e);
        }
        return r;
    }
}
