package dev.shrink4j.tensors.kernels.panama;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Floats;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Bulk F32 ↔ BF16/F16 conversions between mapped memory and heap floats. */
final class Convert {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Half-width shorts: one short vector widens to one float vector. */
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, jdk.incubator.vector.VectorShape.forBitSize(F.vectorBitSize() / 2));
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Convert() {}

    /** BF16 bits at {@code byteOff} widened to a float vector: the 16 bits become the high half. */
    static FloatVector bf16(MemorySegment seg, long byteOff) {
        return ((IntVector) ShortVector.fromMemorySegment(S, seg, byteOff, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** Widens n elements of dtype {@code dt} (F32, BF16, F16) at {@code byteOff} into dst[dstOff..]. */
    static void toF32(DType dt, MemorySegment seg, long byteOff, float[] dst, int dstOff, int n) {
        switch (dt) {
            case F32 -> MemorySegment.copy(seg, Tensor.F32, byteOff, dst, dstOff, n);
            case BF16 -> {
                int i = 0;
                int bound = F.loopBound(n);
                for (; i < bound; i += F.length()) bf16(seg, byteOff + 2L * i).intoArray(dst, dstOff + i);
                for (; i < n; i++) dst[dstOff + i] = Floats.bf16ToF32(seg.get(Tensor.I16, byteOff + 2L * i));
            }
            case F16 -> {
                // A plain loop over Float.float16ToFloat: C2 turns it into vcvtph2ps.
                short[] tmp = PanamaKernels.scratchShorts(n);
                MemorySegment.copy(seg, Tensor.I16, byteOff, tmp, 0, n);
                for (int i = 0; i < n; i++) dst[dstOff + i] = Float.float16ToFloat(tmp[i]);
            }
            default -> throw new IllegalArgumentException("expected F32, BF16 or F16, got " + dt);
        }
    }

    /** Narrows n floats to BF16/F16 with round to nearest even, little-endian at {@code byteOff}. */
    static void fromF32(DType dt, float[] src, int srcOff, MemorySegment seg, long byteOff, int n) {
        if (dt == DType.F16) {
            short[] tmp = PanamaKernels.scratchShorts(n);
            for (int i = 0; i < n; i++) tmp[i] = Float.floatToFloat16(src[srcOff + i]);
            MemorySegment.copy(tmp, 0, seg, Tensor.I16, byteOff, n);
            return;
        }
        if (dt != DType.BF16) {
            throw new IllegalArgumentException("expected BF16 or F16, got " + dt);
        }
        int i = 0;
        int bound = F.loopBound(n);
        for (; i < bound; i += F.length()) {
            IntVector x = FloatVector.fromArray(F, src, srcOff + i).reinterpretAsInts();
            // Round to nearest even on the dropped 16 bits; NaNs stay quiet NaNs (Floats.f32ToBf16).
            IntVector rounded = x.add(0x7FFF).add(x.lanewise(VectorOperators.LSHR, 16).and(1));
            VectorMask<Integer> nan = x.and(0x7FFFFFFF).compare(VectorOperators.GT, 0x7F800000);
            IntVector bits = rounded.blend(x.or(0x00400000), nan).lanewise(VectorOperators.LSHR, 16);
            ((ShortVector) bits.convertShape(VectorOperators.I2S, S, 0)).intoMemorySegment(seg, byteOff + 2L * i, LE);
        }
        for (; i < n; i++) seg.set(Tensor.I16, byteOff + 2L * i, Floats.f32ToBf16(src[srcOff + i]));
    }
}
