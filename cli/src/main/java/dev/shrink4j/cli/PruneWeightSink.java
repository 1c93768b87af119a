package dev.shrink4j.cli;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.prune.NmPattern;
import dev.shrink4j.prune.SparseStorage;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.lang.foreign.Arena;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Stores each pruned linear as it arrives: dense with zeros, CSR or N:M, values in the source
 * weight's dtype so that the stored model is exactly the pruned model (the in-memory copy is rounded
 * to that dtype in place, so an evaluation of it matches the checkpoint).
 */
final class PruneWeightSink {
    private final LlamaModel model;
    private final CheckpointWriter writer;
    private final String format;
    private final NmPattern pattern;
    private final Set<String> written = new HashSet<>();
    private final Map<String, Object> descriptors = new LinkedHashMap<>();
    private long bytes;
    private long denseBytes;

    PruneWeightSink(LlamaModel model, CheckpointWriter writer, String format, NmPattern pattern) {
        this.model = model;
        this.writer = writer;
        this.format = format;
        this.pattern = pattern;
    }

    /**
     * Writes one matrix; returns its number of zeros.
     *
     * @param w (d_out, d_in); Modified: rounded to the stored dtype
     */
    long write(int layer, Proj p, float[] w, int dOut, int dIn) {
        String module = p.module(layer);
        DType dtype = model.weights().tensor(module + ".weight").dtype();
        try (Arena arena = Arena.ofConfined()) {
            Tensor dense = Tensor.ofFloats(arena, Shape.of(dOut, dIn), w);
            if (dtype != DType.F32) {
                dense = dense.convert(arena, dtype);
                dense.readFloats(0, w, 0, w.length);
            }
            denseBytes += dense.byteSize();
            long zeros = 0;
            for (float v : w) {
                if (v == 0f) {
                    zeros++;
                }
            }
            CompressedWeight cw = switch (format) {
                case "dense" -> null;
                case "csr" -> SparseStorage.csr(arena, w, dOut, dIn, dtype);
                case "nm" -> SparseStorage.nm(arena, w, dOut, dIn, pattern, dtype);
                default -> throw new IllegalStateException(format);
            };
            if (cw == null) {
                writer.add(module + ".weight", dense);
                bytes += dense.byteSize();
            } else {
                for (Map.Entry<String, Tensor> e : cw.toTensors(module).entrySet()) {
                    writer.add(e.getKey(), e.getValue());
                }
                descriptors.put(module, cw.descriptor());
                bytes += cw.storageBytes();
            }
            written.add(module + ".weight");
            return zeros;
        }
    }

    Set<String> written() {
        return written;
    }

    Map<String, Object> descriptors() {
        return descriptors;
    }

    long bytes() {
        return bytes;
    }

    long denseBytes() {
        return denseBytes;
    }
}
