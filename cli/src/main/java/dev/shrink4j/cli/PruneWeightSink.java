package dev.shrink4j.cli;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.prune.NmPattern;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.CsrSparse;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
                case "csr" -> csr(arena, w, dOut, dIn, dtype);
                case "nm" -> nm(arena, w, dOut, dIn, dtype);
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

    private static CsrSparse csr(Arena arena, float[] w, int dOut, int dIn, DType dtype) {
        int nnz = 0;
        int[] rowptr = new int[dOut + 1];
        for (int j = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) {
                if (w[j * dIn + i] != 0f) {
                    nnz++;
                }
            }
            rowptr[j + 1] = nnz;
        }
        int[] cols = new int[nnz];
        float[] vals = new float[nnz];
        for (int j = 0, q = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) {
                if (w[j * dIn + i] != 0f) {
                    cols[q] = i;
                    vals[q++] = w[j * dIn + i];
                }
            }
        }
        Tensor v = Tensor.ofFloats(arena, Shape.of(nnz), vals);
        if (dtype != DType.F32) {
            v = v.convert(arena, dtype);
        }
        Tensor c = Tensor.allocate(arena, DType.I32, Shape.of(nnz));
        MemorySegment.copy(cols, 0, c.segment(), Tensor.I32, 0, nnz);
        Tensor r = Tensor.allocate(arena, DType.I32, Shape.of(dOut + 1));
        MemorySegment.copy(rowptr, 0, r.segment(), Tensor.I32, 0, dOut + 1);
        return new CsrSparse(dOut, dIn, v, c, r);
    }

    private NmSparse nm(Arena arena, float[] w, int dOut, int dIn, DType dtype) {
        NmSparse packed = NmSparse.fromDense(arena, w, dOut, dIn, pattern.n(), pattern.m());
        // fromDense stores F16; store the exact values in the source dtype instead
        int k = packed.keptPerRow();
        float[] vals = new float[dOut * k];
        float[] row = new float[k];
        int[] cols = new int[k];
        for (int j = 0; j < dOut; j++) {
            packed.readRow(j, row, cols);
            for (int t = 0; t < k; t++) {
                vals[j * k + t] = w[j * dIn + cols[t]];
            }
        }
        Tensor v = Tensor.ofFloats(arena, Shape.of(dOut, k), vals);
        if (dtype != DType.F32) {
            v = v.convert(arena, dtype);
        }
        return new NmSparse(dOut, dIn, pattern.n(), pattern.m(), v, packed.indices());
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
