package dev.shrink4j.tensors.kernels.panama;

import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.FS;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.L;

import dev.shrink4j.tensors.formats.BitPacking;
import dev.shrink4j.tensors.formats.LutQuantized;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Codebook quantization on vectors: codes are extracted per field as in the uniform kernel, then
 * looked up with one in-register permute of the group's codebook (2^b ≤ lanes, so 4-bit codebooks
 * need 512-bit vectors, 3-bit 256-bit), and fma'd with the permuted activations.
 */
final class PanamaFormatLut {
    private PanamaFormatLut() {}

    static boolean supports(LutQuantized w) {
        int c = PanamaFormatPacked.codesPerLane(w.bits()), p = c * L;
        return w.entries() <= L && w.dIn() >= p && (w.nGroups() == 1 || w.groupSize() % p == 0);
    }

    static void matvec(LutQuantized w, float[] x, float[] y) {
        int n = w.dIn(), bits = w.bits(), c = PanamaFormatPacked.codesPerLane(bits), p = c * L;
        int blocks = n / p, ng = w.nGroups(), e = w.entries();
        int bpg = ng == 1 ? blocks : w.groupSize() / p;
        float[] xp = new float[n];
        PanamaFormatPacked.permute(x, 0, n, blocks, bits, false, xp, 0);
        float[] lut = new float[ng * e];
        float[] table = new float[L];
        MemorySegment seg = w.qweight().segment();
        long rb = w.rowBytes(), bb = PanamaFormatPacked.blockBytes(bits);
        FloatVector zero = FloatVector.zero(FS);
        for (int j = 0; j < w.dOut(); j++) {
            w.readLut(j, lut);
            long r0 = j * rb;
            FloatVector a0 = zero, a1 = zero;
            int t = 0;
            for (int g = 0; g < ng && t < blocks; g++) {
                System.arraycopy(lut, g * e, table, 0, e);
                IntVector tab = FloatVector.fromArray(FS, table, 0).reinterpretAsInts();
                for (int tEnd = Math.min(blocks, t + bpg); t < tEnd; t++) {
                    IntVector wv = PanamaFormatPacked.load(seg, r0 + t * bb, bits);
                    int xo = t * p;
                    for (int k = 0; k < c; k += 2) {
                        a0 = lookup(tab, wv, k, bits).fma(FloatVector.fromArray(FS, xp, xo + k * L), a0);
                        a1 = lookup(tab, wv, k + 1, bits).fma(FloatVector.fromArray(FS, xp, xo + (k + 1) * L), a1);
                    }
                }
            }
            float s = Lanes.sum(a0.add(a1));
            for (int i = blocks * p; i < n; i++) {
                s += lut[(i / w.groupSize()) * e + BitPacking.get(seg, r0, i, bits)] * x[i];
            }
            y[j] = s;
        }
    }

    private static FloatVector lookup(IntVector tab, IntVector w, int k, int bits) {
        IntVector q = (k == 0 ? w : w.lanewise(VectorOperators.LSHR, bits * k)).and((1 << bits) - 1);
        return tab.rearrange(q.toShuffle()).reinterpretAsFloats();
    }
}
