package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** sparse-24-bitmask tensors of a tiny 2:4 layer, bytes worked out by hand from the spec, and read back. */
class CompressedTensorsSparse24Test {
    @Test void tinyLayerAsWorkedByHandAndBack() {
        // (2, 12): row 0 keeps columns 0, 3 | 5, 6 | 8, 9; row 1 keeps 1, 2 | 4 and a zero (only one non-zero) | 10, 11.
        float[] w = {
            1, 0, 0, 2, /**/ 0, 3, 4, 0, /**/ 5, 6, 0, 0,
            0, 7, 8, 0, /**/ 9, 0, 0, 0, /**/ 0, 0, 10, 11};
        try (Arena a = Arena.ofConfined()) {
            Map<String, Tensor> t = CompressedTensorsSparse24.tensors("m", w, 2, 12, DType.F32, a);
            assertEquals(List.of("m.shape", "m.compressed", "m.bitmask"), List.copyOf(t.keySet()));
            Tensor shape = t.get("m.shape");
            assertEquals(DType.I64, shape.dtype());
            assertArrayEquals(new long[] {2, 1}, shape.shape().dims());
            assertEquals(2L, shape.segment().getAtIndex(Tensor.I64, 0));
            assertEquals(12L, shape.segment().getAtIndex(Tensor.I64, 1));
            Tensor v = t.get("m.compressed");
            assertArrayEquals(new long[] {2, 6}, v.shape().dims());
            // Row 1's second run keeps column 4 (9) and its first zero, column 5.
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 10, 11}, v.toFloatArray());
            Tensor m = t.get("m.bitmask");
            assertEquals(DType.U8, m.dtype());
            assertArrayEquals(new long[] {2, 2}, m.shape().dims()); // ⌈12/8⌉ bytes per row, little bit order
            // Row 0: columns 0, 3, 5, 6 → 0b0110_1001 = 0x69; columns 8, 9 → 0b0000_0011 = 0x03.
            // Row 1: columns 1, 2, 4, 5 → 0b0011_0110 = 0x36; columns 10, 11 → 0b0000_1100 = 0x0C.
            assertArrayEquals(new byte[] {0x69, 0x03, 0x36, 0x0C}, m.segment().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(w, CompressedTensorsSparse24.decompress("m", t));
        }
    }

    @Test void moreThanTwoPerRunIsRefusedAndABadBitmaskIsNamed() {
        try (Arena a = Arena.ofConfined()) {
            ShrinkException e = assertThrows(ShrinkException.class,
                    () -> CompressedTensorsSparse24.tensors("m", new float[] {1, 2, 3, 0}, 1, 4, DType.F32, a));
            assertTrue(e.getMessage().contains("m: row 0 has 3 non-zeros"), e.getMessage());
            Map<String, Tensor> t = CompressedTensorsSparse24.tensors("m", new float[] {1, 2, 0, 0}, 1, 4, DType.F32, a);
            t.get("m.bitmask").segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 0x07);
            e = assertThrows(ShrinkException.class, () -> CompressedTensorsSparse24.decompress("m", t));
            assertTrue(e.getMessage().contains("more than d_in/2 bits"), e.getMessage());
        }
    }
}
