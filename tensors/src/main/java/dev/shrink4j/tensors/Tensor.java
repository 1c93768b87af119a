package dev.shrink4j.tensors;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A typed, row-major view over a {@link MemorySegment}. The tensor owns nothing: the segment's
 * {@link Arena} (a mapped file's or the caller's scoped arena) decides its lifetime.
 *
 * <p>Slices ({@link #row}, {@link #rows}, {@link #reshape}) are zero-copy views over the same memory.
 * Element access is little-endian and unaligned, as safetensors stores data.
 */
public final class Tensor {
    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final DType dtype;
    private final Shape shape;
    private final MemorySegment data;

    private Tensor(DType dtype, Shape shape, MemorySegment data) {
        this.dtype = Objects.requireNonNull(dtype);
        this.shape = Objects.requireNonNull(shape);
        this.data = Objects.requireNonNull(data);
        long expected = Math.multiplyExact(shape.numel(), (long) dtype.byteSize());
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor " + dtype + shape + " needs " + expected + " bytes, segment has " + data.byteSize());
        }
    }

    /** Wraps existing memory; its size must be exactly {@code numel × dtype size}. */
    public static Tensor wrap(DType dtype, Shape shape, MemorySegment data) {
        return new Tensor(dtype, shape, data);
    }

    /** A zero-filled tensor in {@code arena}, 64-byte aligned so vector loads never straddle lines needlessly. */
    public static Tensor allocate(Arena arena, DType dtype, Shape shape) {
        long bytes = Math.multiplyExact(shape.numel(), (long) dtype.byteSize());
        return new Tensor(dtype, shape, arena.allocate(bytes, 64));
    }

    /** An F32 tensor in {@code arena} holding a copy of {@code values}. */
    public static Tensor ofFloats(Arena arena, Shape shape, float[] values) {
        if (shape.numel() != values.length) {
            throw new IllegalArgumentException("shape " + shape + " has " + shape.numel() + " elements, got " + values.length + " values");
        }
        Tensor t = allocate(arena, DType.F32, shape);
        MemorySegment.copy(values, 0, t.data, F32, 0, values.length);
        return t;
    }

    public DType dtype() {
        return dtype;
    }

    public Shape shape() {
        return shape;
    }

    public MemorySegment segment() {
        return data;
    }

    public long numel() {
        return shape.numel();
    }

    public long byteSize() {
        return data.byteSize();
    }

    /** Rows {@code [from, to)} of the first dimension, zero-copy. */
    public Tensor rows(long from, long to) {
        long n = shape.dim(0);
        if (from < 0 || to > n || from > to) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of dimension " + n);
        }
        long rowBytes = shape.rowNumel() * dtype.byteSize();
        return new Tensor(dtype, shape.withFirst(to - from), data.asSlice(from * rowBytes, (to - from) * rowBytes));
    }

    /** Row {@code i} of the first dimension as a tensor of rank − 1, zero-copy. */
    public Tensor row(long i) {
        long[] d = shape.dims();
        long[] rest = java.util.Arrays.copyOfRange(d, 1, d.length);
        return rows(i, i + 1).reshape(Shape.of(rest));
    }

    /** The same memory under another shape with the same element count. */
    public Tensor reshape(Shape newShape) {
        if (newShape.numel() != shape.numel()) {
            throw new IllegalArgumentException("cannot reshape " + shape + " to " + newShape);
        }
        return new Tensor(dtype, newShape, data);
    }

    /** Element {@code i} (flat index) widened to float, for any floating or integer dtype. */
    public float getFloat(long i) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32, i);
            case BF16 -> Floats.bf16ToF32(data.getAtIndex(I16, i));
            case F16 -> Floats.f16ToF32(data.getAtIndex(I16, i));
            case F64 -> (float) data.getAtIndex(F64, i);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            case I16 -> data.getAtIndex(I16, i);
            case I32 -> data.getAtIndex(I32, i);
            case I64 -> data.getAtIndex(I64, i);
        };
    }

    /** Stores {@code v} at flat index {@code i}, rounding to nearest even for 16-bit floats. */
    public void setFloat(long i, float v) {
        switch (dtype) {
            case F32 -> data.setAtIndex(F32, i, v);
            case BF16 -> data.setAtIndex(I16, i, Floats.f32ToBf16(v));
            case F16 -> data.setAtIndex(I16, i, Floats.f32ToF16(v));
            case F64 -> data.setAtIndex(F64, i, v);
            default -> throw new UnsupportedOperationException("setFloat on " + dtype + " tensor");
        }
    }

    /**
     * Copies {@code count} elements starting at flat index {@code from}, widened to F32, into
     * {@code dst[dstOff..]}. Bulk copy for F32; one pass of conversion for F16/BF16.
     */
    public void readFloats(long from, float[] dst, int dstOff, int count) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32, from * 4, dst, dstOff, count);
            case BF16, F16 -> {
                short[] tmp = new short[Math.min(count, 1 << 14)];
                int done = 0;
                while (done < count) {
                    int n = Math.min(tmp.length, count - done);
                    MemorySegment.copy(data, I16, (from + done) * 2, tmp, 0, n);
                    if (dtype == DType.BF16) {
                        for (int k = 0; k < n; k++) dst[dstOff + done + k] = Floats.bf16ToF32(tmp[k]);
                    } else {
                        for (int k = 0; k < n; k++) dst[dstOff + done + k] = Floats.f16ToF32(tmp[k]);
                    }
                    done += n;
                }
            }
            default -> {
                for (int k = 0; k < count; k++) dst[dstOff + k] = getFloat(from + k);
            }
        }
    }

    /** All elements widened to a new F32 heap array (must fit in an int-indexed array). */
    public float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor " + shape + " too large for a Java array; use rows()");
        }
        float[] out = new float[(int) n];
        readFloats(0, out, 0, (int) n);
        return out;
    }

    /** Writes {@code count} floats from {@code src[srcOff..]} at flat index {@code from}, narrowing if needed. */
    public void writeFloats(long from, float[] src, int srcOff, int count) {
        if (dtype == DType.F32) {
            MemorySegment.copy(src, srcOff, data, F32, from * 4, count);
        } else {
            for (int k = 0; k < count; k++) setFloat(from + k, src[srcOff + k]);
        }
    }

    /** A copy converted to {@code target} (F32, F16, BF16 or F64) in {@code arena}. */
    public Tensor convert(Arena arena, DType target) {
        Tensor out = allocate(arena, target, shape);
        if (target == dtype) {
            MemorySegment.copy(data, 0, out.data, 0, data.byteSize());
            return out;
        }
        long n = numel();
        float[] buf = new float[(int) Math.min(n, 1 << 16)];
        for (long done = 0; done < n; ) {
            int c = (int) Math.min(buf.length, n - done);
            readFloats(done, buf, 0, c);
            out.writeFloats(done, buf, 0, c);
            done += c;
        }
        return out;
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + shape + "]";
    }
}
