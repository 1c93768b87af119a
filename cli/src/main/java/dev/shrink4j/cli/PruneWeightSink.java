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
 * Stores each pruned linear as it arrives: dense with zeros in the source weight's dtype, or CSR / N:M
 * with values as {@link SparseStorage#valueType} (F16, BF16 from BF16). The in-memory copy is rounded
 * to the stored dtype in place, so an evaluation of it matches the checkpoint.
 */
final class PruneWeightSink {
    private final LlamaModel model;
    private final CheckpointWriter writer;
    private final String format;
    private final NmPattern pattern;
    private final Set<String> written = new HashSet<>();
    private final Map<String, Object> descriptors = new LinkedHashMap<>();
    private SparseStorage.Bytes bytes = SparseStorage.Bytes.ZERO;

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
            SparseStorage.round(w, format.equals("dense") ? dtype : SparseStorage.valueType(dtype, w));
            long zeros = 0;
            for (float v : w) {
                if (v == 0f) {
                    zeros++;
                }
            }
            long denseBytes = (long) dOut * dIn * dtype.byteSize();
            CompressedWeight cw = switch (format) {
                case "dense" -> null;
                case "csr" -> SparseStorage.csr(arena, w, dOut, dIn, dtype);
                case "nm" -> SparseStorage.nm(arena, w, dOut, dIn, pattern, dtype);
                default -> throw new IllegalStateException(format);
            };
            if (cw == null) {
                Tensor dense = Tensor.ofFloats(arena, Shape.of(dOut, dIn), w);
                writer.add(module + ".weight", dtype == DType.F32 ? dense : dense.convert(arena, dtype));
                bytes = bytes.plus(denseBytes, denseBytes);
            } else {
                for (Map.Entry<String, Tensor> e : cw.toTensors(module).entrySet()) {
                    writer.add(e.getKey(), e.getValue());
                }
                descriptors.put(module, cw.descriptor());
                bytes = bytes.plus(cw.storageBytes(), denseBytes);
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
        return bytes.stored();
    }

    long denseBytes() {
        return bytes.dense();
    }

    /** Stored against dense bytes of the linears written so far. */
    SparseStorage.Bytes storedBytes() {
        return bytes;
    }

    /** "warning: … larger than the dense input …" when the stored linears outgrew the input's, else empty. */
    String sizeWarning() {
        return bytes.warning();
    }
}
