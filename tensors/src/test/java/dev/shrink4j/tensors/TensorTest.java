package dev.shrink4j.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void rowsAndRowAreZeroCopyViews() {
        try (Arena arena = Arena.ofConfined()) {
            float[] v = new float[12];
            for (int i = 0; i < 12; i++) v[i] = i;
            Tensor t = Tensor.ofFloats(arena, Shape.of(3, 4), v); // (3, 4)
            Tensor r1 = t.row(1);
            assertEquals(Shape.of(4), r1.shape());
            assertArrayEquals(new float[] {4, 5, 6, 7}, r1.toFloatArray());
            r1.setFloat(2, 60f);
            assertEquals(60f, t.getFloat(6), "write through the view");
            Tensor tail = t.rows(1, 3);
            assertEquals(Shape.of(2, 4), tail.shape());
            assertEquals(11f, tail.getFloat(7));
            assertThrows(IndexOutOfBoundsException.class, () -> t.rows(2, 4));
        }
    }

    @Test
    void convertRoundTripsThroughBf16AndF16() {
        try (Arena arena = Arena.ofConfined()) {
            float[] v = {0f, 1f, -2.5f, 3.140625f, 65504f, -0.0009765625f};
            Tensor t = Tensor.ofFloats(arena, Shape.of(2, 3), v);
            assertArrayEquals(v, t.convert(arena, DType.F16).convert(arena, DType.F32).toFloatArray());
            Tensor b = t.convert(arena, DType.BF16);
            assertEquals(DType.BF16, b.dtype());
            assertEquals(12, b.byteSize());
            assertEquals(3.140625f, b.getFloat(3));
        }
    }

    @Test
    void wrapChecksByteSize() {
        try (Arena arena = Arena.ofConfined()) {
            var seg = arena.allocate(10);
            assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(DType.F32, Shape.of(3), seg));
        }
    }

    @Test
    void shapeArithmetic() {
        Shape s = Shape.of(2, 3, 4);
        assertEquals(24, s.numel());
        assertEquals(12, s.rowNumel());
        assertEquals(4, s.dim(-1));
        assertEquals(1, Shape.of().numel());
        assertThrows(IllegalArgumentException.class, () -> Shape.of(2, -1));
        assertThrows(ArithmeticException.class, () -> Shape.of(Long.MAX_VALUE, 2).numel());
    }
}
