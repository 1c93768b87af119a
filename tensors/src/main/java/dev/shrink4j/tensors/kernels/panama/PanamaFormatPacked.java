package dev.shrink4j.tensors.kernels.panama;

import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.IS;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.L;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.LE;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Reading packed codes a block at a time, and the matching permutation of the activations. */
final class PanamaFormatPacked {
    static final VectorSpecies<Byte> BS = ByteVector.SPECIES_PREFERRED;
    /** Spreads 3-byte groups (eight 3-bit codes) into the low 3 bytes of each int lane. */
    private static final VectorShuffle<Byte> SPREAD3;
    private static final VectorMask<Byte> FIRST_3L;

    static {
        int[] idx = new int[BS.length()];
        for (int l = 0; l < L; l++) {
            for (int i = 0; i < 4; i++) idx[4 * l + i] = 3 * l + Math.min(i, 2);
        }
        SPREAD3 = VectorShuffle.fromArray(BS, idx, 0);
        FIRST_3L = BS.indexInRange(0, 3 * L);
    }

    private PanamaFormatPacked() {}

    /** Codes per int lane: 32/b, or 8 for 3-bit codes (24 bits per lane). */
    static int codesPerLane(int bits) {
        return bits == 3 ? 8 : 32 / bits;
    }

    /** Bytes of one block of C·L codes. */
    static int blockBytes(int bits) {
        return codesPerLane(bits) * L * bits / 8;
    }

    /** Whether field C − 1 is taken by a shift (its mask would reach the sign bit) rather than masked in place. */
    static boolean shiftsTop(int bits) {
        return bits != 3;
    }

    /** The block of packed words at byte {@code off}. */
    static IntVector load(MemorySegment seg, long off, int bits) {
        if (bits != 3) {
            return IntVector.fromMemorySegment(IS, seg, off, LE);
        }
        ByteVector b = off + BS.length() <= seg.byteSize()
                ? ByteVector.fromMemorySegment(BS, seg, off, LE)
                : ByteVector.fromMemorySegment(BS, seg, off, LE, FIRST_3L);
        return b.rearrange(SPREAD3).reinterpretAsInts();
    }

    /** Field k of every lane as float: masked in place (value q·2^(b·k)), or shifted down for the top field. */
    static FloatVector field(IntVector w, int k, int bits, int c) {
        IntVector v = k == c - 1 && shiftsTop(bits)
                ? w.lanewise(VectorOperators.LSHR, bits * k)
                : w.and(((1 << bits) - 1) << (bits * k));
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    /** Field k of every lane as float code values 0 … 2^b − 1. */
    static FloatVector code(IntVector w, int k, int bits) {
        IntVector v = k == 0 ? w : w.lanewise(VectorOperators.LSHR, bits * k);
        return (FloatVector) v.and((1 << bits) - 1).convert(VectorOperators.I2F, 0);
    }

    /** The factor that undoes {@link #field}'s in-place position: 2^(−b·k), or 1 for a shifted field. */
    static float fieldScale(int k, int bits, int c) {
        return k == c - 1 && shiftsTop(bits) ? 1f : Math.scalb(1f, -bits * k);
    }

    /**
     * xp[t·P + k·L + l] = x[t·P + l·C + k]·scale_k for the first {@code blocks} blocks; the remaining
     * elements (the tail) are copied unpermuted. x: (n); xp: (n), Modified.
     */
    static void permute(float[] x, int xo, int n, int blocks, int bits, boolean scaled, float[] xp, int xpo) {
        int c = codesPerLane(bits), p = c * L;
        for (int k = 0; k < c; k++) {
            float f = scaled ? fieldScale(k, bits, c) : 1f;
            for (int t = 0; t < blocks; t++) {
                int src = xo + t * p + k, dst = xpo + t * p + k * L;
                for (int l = 0; l < L; l++) xp[dst + l] = x[src + l * c] * f;
            }
        }
        System.arraycopy(x, xo + blocks * p, xp, xpo + blocks * p, n - blocks * p);
    }
}
