package dev.shrink4j.tensors.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.BitPacking;
import dev.shrink4j.tensors.formats.CodeWidth;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Our uniform codes written as ggml blocks decode (by ggml's reference decoder, restated) to the same floats bit for bit. */
class GgufMappingTest {
    private static UniformQuantized random(Arena a, int dOut, int dIn, int bits, int group, boolean sym, boolean exactZeros, long seed) {
        Random r = new Random(seed);
        CodeWidth w = CodeWidth.ofBits(bits);
        int ng = UniformQuantized.groups(dIn, group);
        Tensor q = Tensor.allocate(a, DType.U8, Shape.matrix(dOut, w.rowBytes(dIn)));
        Tensor s = Tensor.allocate(a, DType.F16, Shape.matrix(dOut, ng));
        Tensor z = sym ? null : Tensor.allocate(a, DType.U8, Shape.matrix(dOut, w.rowBytes(ng)));
        for (int j = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) BitPacking.set(q.segment(), j * w.rowBytes(dIn), i, bits, r.nextInt(1 << bits));
            for (int g = 0; g < ng; g++) {
                // Powers of two times small integers keep s·z an F16 value; random scales usually do not.
                float sc = exactZeros ? (1 + r.nextInt(8)) / 256f : (float) (0.001 + r.nextDouble() * 0.05);
                s.setFloat((long) j * ng + g, sc);
                if (!sym) BitPacking.set(z.segment(), j * w.rowBytes(ng), g, bits, r.nextInt(1 << bits));
            }
        }
        return new UniformQuantized(dOut, dIn, w, group, sym, q, s, z, null);
    }

    private static void assertSameFloats(UniformQuantized u, GgufType t, long expectInexact) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment blocks = a.allocate(t.bytes((long) u.dOut() * u.dIn()));
            long inexact = GgufMapping.write(u, t, blocks);
            if (expectInexact >= 0) assertEquals(expectInexact, inexact);
            float[] ours = new float[u.dIn()], theirs = new float[u.dIn()];
            for (int j = 0; j < u.dOut(); j++) {
                u.dequantizeRow(j, ours, 0);
                GgufBlocks.dequantize(t, blocks, (long) j * u.dIn(), theirs, 0, u.dIn());
                if (inexact == 0) assertArrayEquals(ours, theirs, t + " row " + j);
            }
        }
    }

    @Test void symmetricInt4IsQ4_0Exactly() {
        try (Arena a = Arena.ofConfined()) {
            UniformQuantized u = random(a, 7, 96, 4, 32, true, false, 1);
            assertEquals(Optional.of(GgufType.Q4_0), GgufMapping.typeOf(u));
            assertSameFloats(u, GgufType.Q4_0, 0);
        }
    }

    @Test void symmetricInt8IsQ8_0Exactly() {
        try (Arena a = Arena.ofConfined()) {
            UniformQuantized u = random(a, 5, 64, 8, 32, true, false, 2);
            assertEquals(Optional.of(GgufType.Q8_0), GgufMapping.typeOf(u));
            assertSameFloats(u, GgufType.Q8_0, 0);
        }
    }

    @Test void asymmetricInt4IsQ4_1ExactlyWhenScaleTimesZeroIsF16() {
        try (Arena a = Arena.ofConfined()) {
            UniformQuantized u = random(a, 6, 64, 4, 32, false, true, 3);
            assertEquals(Optional.of(GgufType.Q4_1), GgufMapping.typeOf(u));
            assertSameFloats(u, GgufType.Q4_1, 0);
            UniformQuantized v = random(a, 6, 64, 4, 32, false, false, 4);
            MemorySegment blocks = a.allocate(GgufType.Q4_1.bytes(6 * 64));
            assertTrue(GgufMapping.write(v, GgufType.Q4_1, blocks) > 0, "random F16 scales make some s·z inexact");
        }
    }

    @Test void otherShapesHaveNoBlockType() {
        try (Arena a = Arena.ofConfined()) {
            assertEquals(Optional.empty(), GgufMapping.typeOf(random(a, 2, 128, 4, 128, true, false, 5)));
            assertEquals(Optional.empty(), GgufMapping.typeOf(random(a, 2, 64, 8, 32, false, false, 6)));
            assertEquals(Optional.empty(), GgufMapping.typeOf(random(a, 2, 64, 3, 32, true, false, 7)));
            assertTrue(GgufMapping.whyNot(random(a, 2, 172, 4, 32, true, false, 8)).contains("d_in 172"));
        }
    }
}
