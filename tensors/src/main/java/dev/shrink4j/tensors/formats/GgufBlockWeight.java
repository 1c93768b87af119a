package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.gguf.GgufBlocks;
import dev.shrink4j.tensors.gguf.GgufType;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A weight stored in one of ggml's formats (Q4_0, Q4_1, Q8_0, Q4_K, Q5_K, Q6_K, or plain F32/F16/BF16),
 * row by row exactly as a GGUF file holds it: row j is {@code d_in / blockSize} consecutive blocks.
 * The scalar reference is {@link GgufBlocks#dequantize} ({@link FormatKernels#ggufMatvec}: widen a
 * row, then a dot product); the Panama kernels multiply Q4_0/Q4_1/Q8_0 and Q4_K/Q5_K/Q6_K blocks in place.
 *
 * @param blocks (d_out, d_in / blockSize · blockBytes) bytes, a view
 */
public record GgufBlockWeight(GgufType type, int dOut, int dIn, MemorySegment blocks) implements CompressedWeight {
    public static final String FORMAT = "gguf_blocks";

    public GgufBlockWeight {
        if (dIn % type.blockSize != 0) throw new IllegalArgumentException("d_in " + dIn + " is not a multiple of the " + type + " block size " + type.blockSize);
        if (blocks.byteSize() != type.bytes((long) dOut * dIn)) {
            throw new IllegalArgumentException(type + " (" + dOut + ", " + dIn + ") needs " + type.bytes((long) dOut * dIn) + " bytes, got " + blocks.byteSize());
        }
    }

    /** Bytes of one row. */
    public long rowBytes() {
        return type.bytes(dIn);
    }

    @Override public String format() {
        return FORMAT;
    }

    @Override public void dequantizeRow(int j, float[] dst, int off) {
        GgufBlocks.dequantize(type, blocks, (long) j * dIn, dst, off, dIn);
    }

    @Override public void matvec(float[] x, float[] y, FormatKernels k) {
        k.ggufMatvec(this, x, y);
    }

    @Override public void matmul(float[] x, int m, float[] y, FormatKernels k) {
        k.ggufMatmul(this, x, m, y);
    }

    @Override public long payloadBytes() {
        return blocks.byteSize();
    }

    @Override public long storageBytes() {
        return blocks.byteSize();
    }

    @Override public GgufBlockWeight rows(int j0, int j1) {
        java.util.Objects.checkFromToIndex(j0, j1, dOut);
        return new GgufBlockWeight(type, j1 - j0, dIn, blocks.asSlice(j0 * rowBytes(), (j1 - j0) * rowBytes()));
    }

    @Override public Map<String, Tensor> toTensors(String module) {
        return Map.of(module + ".gguf_blocks", Tensor.wrap(DType.U8, Shape.matrix(dOut, rowBytes()), blocks));
    }

    @Override public Map<String, Object> descriptor() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("format", FORMAT);
        d.put("type", type.name());
        d.put("d_in", (long) dIn);
        return d;
    }

    static GgufBlockWeight fromTensors(String module, Map<String, ?> descriptor, Map<String, Tensor> tensors) {
        String typeName = Formats.string(module, descriptor, "type");
        GgufType type = GgufType.byName(typeName).orElseThrow(() -> new ShrinkException("module '" + module + "': unknown GGUF type '" + typeName + "'"));
        Tensor t = tensors.get(module + ".gguf_blocks");
        if (t == null || t.dtype() != DType.U8 || t.shape().rank() != 2) throw new ShrinkException("missing or malformed tensor '" + module + ".gguf_blocks' (expected U8 (d_out, row bytes))");
        if (!(descriptor.get("d_in") instanceof Long dIn)) throw new ShrinkException("module '" + module + "': GGUF descriptor lacks d_in");
        return new GgufBlockWeight(type, Math.toIntExact(t.shape().dim(0)), Math.toIntExact(dIn), t.segment());
    }
}
