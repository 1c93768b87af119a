package dev.shrink4j.tensors.kernels.panama;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.shrink4j.tensors.formats.GgufBlockWeight;
import dev.shrink4j.tensors.gguf.GgufBlocks;
import dev.shrink4j.tensors.gguf.GgufType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The vector widening of K-quant super-blocks (the batched path's decoder) equals the scalar reference bit for bit. */
class PanamaFormatGgufKTest {
    @Test void decodeIsBitIdenticalToTheReference() {
        Random r = new Random(3);
        for (GgufType t : new GgufType[] {GgufType.Q4_K, GgufType.Q5_K, GgufType.Q6_K}) {
            int dOut = 3, dIn = 768;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = a.allocate(t.bytes((long) dOut * dIn));
                for (long i = 0; i < s.byteSize(); i++) s.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(256));
                for (long b = 0; b < s.byteSize(); b += t.blockBytes) { // finite halves: d, dmin (Q6_K: d last)
                    if (t == GgufType.Q6_K) s.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + 208, (short) (0x1000 + r.nextInt(0x2000)));
                    else for (int k = 0; k < 4; k += 2) s.set(ValueLayout.JAVA_SHORT_UNALIGNED, b + k, (short) (0x1000 + r.nextInt(0x2000)));
                }
                GgufBlockWeight w = new GgufBlockWeight(t, dOut, dIn, s);
                if (!PanamaFormatGgufK.supports(w)) return; // no 8- or 16-lane floats on this CPU
                for (int j = 0; j < dOut; j++) {
                    for (int p0 = 0; p0 < dIn; p0 += 256) {
                        for (int len = 256; p0 + len <= dIn; len += 256) {
                            float[] ref = new float[len + 5], vec = new float[len + 5];
                            GgufBlocks.dequantize(t, s, (long) j * dIn + p0, ref, 5, len);
                            PanamaFormatGgufK.decode(w, (long) j * dIn + p0, len, vec, 5);
                            assertArrayEquals(ref, vec, t + " row " + j + " [" + p0 + ", " + (p0 + len) + ")");
                        }
                    }
                }
            }
        }
    }
}
