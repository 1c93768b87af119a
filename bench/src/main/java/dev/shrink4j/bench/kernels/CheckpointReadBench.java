package dev.shrink4j.bench.kernels;

import dev.shrink4j.tensors.io.SafetensorsFile;
import dev.shrink4j.tensors.kernels.Kernels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Opens a ~2 GiB BF16 safetensors file (warm in the page cache), sums every tensor and closes it: the
 * cost of touching a whole checkpoint once. The peer is {@code cat FILE > /dev/null} on the same file.
 * The file is generated on first use at {@link #FILE} (32 tensors of 4096 × 8192 BF16).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class CheckpointReadBench {
    public static final Path FILE = Path.of(System.getProperty("java.io.tmpdir"), "shrink4j-bench", "ckpt-2g.safetensors");
    static final int TENSORS = 32, ROWS = 4096, COLS = 8192;

    Kernels kernels;

    @Setup
    public void setup() throws IOException {
        ensureFile();
        kernels = Kernels.get();
        sumAll(); // bring the file into the page cache
    }

    @Benchmark
    public double sumAll() {
        double s = 0;
        try (Arena arena = Arena.ofShared()) {
            SafetensorsFile f = SafetensorsFile.open(FILE, arena);
            for (String name : f.names()) s += kernels.sum(f.tensor(name));
        }
        return s;
    }

    /** Writes the file once (atomically) with a minimal safetensors writer that streams the data. */
    static void ensureFile() throws IOException {
        long dataBytes = (long) TENSORS * ROWS * COLS * 2;
        StringBuilder h = new StringBuilder("{");
        for (int t = 0; t < TENSORS; t++) {
            long from = (long) t * ROWS * COLS * 2;
            h.append(t == 0 ? "" : ",").append("\"layers.").append(t).append(".weight\":{\"dtype\":\"BF16\",\"shape\":[")
                    .append(ROWS).append(',').append(COLS).append("],\"data_offsets\":[").append(from).append(',')
                    .append(from + (long) ROWS * COLS * 2).append("]}");
        }
        h.append('}');
        while ((h.length() + 8) % 8 != 0) h.append(' ');
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        long total = 8 + header.length + dataBytes;
        if (Files.exists(FILE) && Files.size(FILE) == total) {
            return;
        }
        Files.createDirectories(FILE.getParent());
        Path tmp = FILE.resolveSibling(FILE.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            ch.write(len);
            ch.write(ByteBuffer.wrap(header));
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
            SplittableRandom r = new SplittableRandom(5);
            while (chunk.remaining() >= 2) {
                chunk.putShort((short) (Float.floatToRawIntBits((float) (r.nextDouble() - 0.5) * 0.1f) >>> 16));
            }
            for (long done = 0; done < dataBytes; done += chunk.capacity()) {
                chunk.clear();
                while (chunk.hasRemaining()) ch.write(chunk);
            }
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw new UncheckedIOException("cannot write benchmark checkpoint " + tmp, e);
        }
        Files.move(tmp, FILE, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Generates the file without running the benchmark: {@code java -cp benchmarks.jar ...CheckpointReadBench}. */
    public static void main(String[] args) throws IOException {
        ensureFile();
        System.out.println(FILE);
    }
}
