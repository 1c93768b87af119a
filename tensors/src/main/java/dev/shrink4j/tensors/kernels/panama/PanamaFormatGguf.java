package dev.shrink4j.tensors.kernels.panama;

import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.FS;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.L;

import dev.shrink4j.tensors.formats.GgufBlockWeight;
import dev.shrink4j.tensors.gguf.GgufType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * y = Ŵ·x for ggml's 32-element block formats Q4_0, Q4_1 and Q8_0 with F32 activations, reading the
 * blocks in place (the scalar spec is {@code GgufBlocks.dequantize} followed by a dot product). A
 * block of 32 weights is loaded as L bytes at a time (L = float lanes, 8 or 16), widened to int lanes
 * and converted to float: Q4_0 byte k holds element k in its low nibble and element k + 16 in its high
 * one, so chunk c of the low nibbles meets x[32b + cL …] and of the high nibbles x[32b + 16 + cL …].
 * Per block the products q·x are summed in one vector and scaled by the block's d into the row's
 * accumulator (one fma); the offsets cost one scalar term per block: Q4_0 stores q − 8, so
 * −8·d·Σx_block, and Q4_1 m·Σx_block, from block sums of x computed once per call.
 */
final class PanamaFormatGguf {
    private static final VectorSpecies<Byte> BS = L == 8 || L == 16 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * L)) : null;
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private PanamaFormatGguf() {}

    /** Whether this kernel covers {@code w}; K-quants have {@code PanamaFormatGgufK}, plain floats the scalar path. */
    static boolean supports(GgufBlockWeight w) {
        return BS != null && (w.type() == GgufType.Q4_0 || w.type() == GgufType.Q4_1 || w.type() == GgufType.Q8_0);
    }

    /** x (d_in), y (d_out), Modified. */
    static void matvec(GgufBlockWeight w, float[] x, float[] y) {
        int nb = w.dIn() / 32;
        float[] bsum = new float[nb];
        for (int b = 0; b < nb; b++) {
            float s = 0;
            for (int i = 0; i < 32; i++) s += x[32 * b + i];
            bsum[b] = s;
        }
        MemorySegment src = w.blocks();
        long rowBytes = w.rowBytes();
        switch (w.type()) {
            case Q4_0 -> { for (int j = 0; j < w.dOut(); j++) y[j] = q4Row(src, j * rowBytes, nb, x, bsum, false); }
            case Q4_1 -> { for (int j = 0; j < w.dOut(); j++) y[j] = q4Row(src, j * rowBytes, nb, x, bsum, true); }
            case Q8_0 -> { for (int j = 0; j < w.dOut(); j++) y[j] = q8Row(src, j * rowBytes, nb, x); }
            default -> throw new IllegalArgumentException(w.type() + " has no Panama kernel");
        }
    }

    /** One row of Q4_0 (18-byte blocks: d, 16 nibble bytes) or Q4_1 (20: d, m, 16 bytes). */
    private static float q4Row(MemorySegment src, long row, int nb, float[] x, float[] bsum, boolean q41) {
        int blockBytes = q41 ? 20 : 18, qs = q41 ? 4 : 2;
        FloatVector acc = FloatVector.zero(FS);
        float off = 0;
        long base = row;
        for (int b = 0; b < nb; b++, base += blockBytes) {
            float d = Float.float16ToFloat(src.get(HALF, base));
            FloatVector blk = FloatVector.zero(FS);
            for (int c = 0; c < 16; c += L) {
                IntVector q = (IntVector) ByteVector.fromMemorySegment(BS, src, base + qs + c, LE).convertShape(VectorOperators.B2I, IS, 0);
                FloatVector lo = q.and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats();
                FloatVector hi = q.lanewise(VectorOperators.LSHR, 4).and(0xF).convert(VectorOperators.I2F, 0).reinterpretAsFloats();
                blk = lo.fma(FloatVector.fromArray(FS, x, 32 * b + c), blk);
                blk = hi.fma(FloatVector.fromArray(FS, x, 32 * b + 16 + c), blk);
            }
            acc = blk.fma(FloatVector.broadcast(FS, d), acc);
            off += (q41 ? Float.float16ToFloat(src.get(HALF, base + 2)) : -8 * d) * bsum[b];
        }
        return Lanes.sum(acc) + off;
    }

    /** One row of Q8_0 (34-byte blocks: d, 32 int8). */
    private static float q8Row(MemorySegment src, long row, int nb, float[] x) {
        FloatVector acc = FloatVector.zero(FS);
        long base = row;
        for (int b = 0; b < nb; b++, base += 34) {
            float d = Float.float16ToFloat(src.get(HALF, base));
            FloatVector blk = FloatVector.zero(FS);
            for (int c = 0; c < 32; c += L) {
                FloatVector q = ByteVector.fromMemorySegment(BS, src, base + 2 + c, LE).convertShape(VectorOperators.B2F, FS, 0).reinterpretAsFloats();
                blk = q.fma(FloatVector.fromArray(FS, x, 32 * b + c), blk);
            }
            acc = blk.fma(FloatVector.broadcast(FS, d), acc);
        }
        return Lanes.sum(acc);
    }
}
