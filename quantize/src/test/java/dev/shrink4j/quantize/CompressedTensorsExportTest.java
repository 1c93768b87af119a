package dev.shrink4j.quantize;

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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** compressed-tensors pack-quantized tensors of a tiny layer, bytes worked out by hand from the spec. */
class CompressedTensorsExportTest {
    @Test void tinyLayerPacksAsWorkedByHand() {
        try (Arena a = Arena.ofConfined()) {
            // (2, 16), 4-bit symmetric, groups of 8. Row 0 codes 0..15, row 1 all 8 (ŵ = 0).
            Tensor q = Tensor.allocate(a, DType.U8, Shape.matrix(2, 8));
            for (int i = 0; i < 16; i++) {
                BitPacking.set(q.segment(), 0, i, 4, i);
                BitPacking.set(q.segment(), 8, i, 4, 8);
            }
            Tensor s = Tensor.allocate(a, DType.F16, Shape.matrix(2, 2));
            s.setFloat(0, 0.5f);
            s.setFloat(1, 0.25f);
            s.setFloat(2, 1f);
            s.setFloat(3, 2f);
            UniformQuantized u = new UniformQuantized(2, 16, CodeWidth.ofBits(4), 8, true, q, s, null, null);
            assertTrue(CompressedTensorsExport.whyNot(u).isEmpty());
            Map<String, Tensor> t = CompressedTensorsExport.tensors("m", u, a);
            assertEquals(List.of("m.weight_packed", "m.weight_scale", "m.weight_shape"), List.copyOf(t.keySet()));
            Tensor packed = t.get("m.weight_packed");
            assertEquals(DType.I32, packed.dtype());
            assertArrayEquals(new long[] {2, 2}, packed.shape().dims());
            // Signed codes q − 8 are shifted by +8 back to 0..15 and packed 8 per int32, element 0 lowest:
            // row 0: codes 7..0 → 0x76543210, codes 15..8 → 0xFEDCBA98; row 1: eight 8s → 0x88888888.
            int[] words = new int[4];
            for (int i = 0; i < 4; i++) words[i] = packed.segment().getAtIndex(Tensor.I32, i);
            assertArrayEquals(new int[] {0x76543210, 0xFEDCBA98, 0x88888888, 0x88888888}, words);
            Tensor scale = t.get("m.weight_scale");
            assertEquals(DType.F16, scale.dtype());
            assertArrayEquals(new float[] {0.5f, 0.25f, 1f, 2f}, scale.toFloatArray());
            Tensor shape = t.get("m.weight_shape");
            assertEquals(DType.I64, shape.dtype());
            assertEquals(2L, shape.segment().getAtIndex(Tensor.I64, 0));
            assertEquals(16L, shape.segment().getAtIndex(Tensor.I64, 1));
            // Dequantized per the spec, (nibble − 8)·scale: element 3 = (3 − 8)·0.5, element 9 = (9 − 8)·0.25.
            float[] row = new float[16];
            u.dequantizeRow(0, row, 0);
            assertEquals(-2.5f, row[3]);
            assertEquals(0.25f, row[9]);
        }
    }

    @Test void asymmetricZeroPointsPackAlongTheOutputDimensionAsWorkedByHand() {
        try (Arena a = Arena.ofConfined()) {
            // (3, 8), 4-bit asymmetric, groups of 4: zero points z[j][g] = (1, 2), (3, 4), (15, 0).
            Tensor q = Tensor.allocate(a, DType.U8, Shape.matrix(3, 4));
            Tensor s = Tensor.allocate(a, DType.F16, Shape.matrix(3, 2));
            for (int i = 0; i < 6; i++) s.setFloat(i, 1f);
            Tensor z = Tensor.allocate(a, DType.U8, Shape.matrix(3, 1)); // ours: both groups' nibbles in one byte per row
            z.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 0x21);
            z.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 1, (byte) 0x43);
            z.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 2, (byte) 0x0F);
            UniformQuantized u = new UniformQuantized(3, 8, CodeWidth.ofBits(4), 4, false, q, s, z, null);
            assertTrue(CompressedTensorsExport.whyNot(u).isEmpty());
            Map<String, Tensor> t = CompressedTensorsExport.tensors("m", u, a);
            Tensor zp = t.get("m.weight_zero_point");
            assertEquals(DType.I32, zp.dtype());
            // ⌈3 rows / 8 per word⌉ = 1 word row, one column per group; row j in bits [4j, 4j + 4):
            // group 0: 1 | 3 << 4 | 15 << 8 = 0xF31; group 1: 2 | 4 << 4 | 0 << 8 = 0x042.
            assertArrayEquals(new long[] {1, 2}, zp.shape().dims());
            assertEquals(0xF31, zp.segment().getAtIndex(Tensor.I32, 0));
            assertEquals(0x042, zp.segment().getAtIndex(Tensor.I32, 1));
            // Read back per the spec: unpack along dim 0, then ŵ = (q − zp)·s with both shifted by −8 (the shift cancels).
            assertEquals(15, zp.segment().getAtIndex(Tensor.I32, 0) >>> 8 & 0xF);
            float[] row = new float[8];
            u.dequantizeRow(2, row, 0);
            assertEquals(-15f, row[0]); // code 0, zero 15
            assertEquals(0f, row[4]);   // code 0, zero 0
        }
    }

    @Test void whatDoesNotPackIsNamed() {
        try (Arena a = Arena.ofConfined()) {
            Tensor q = Tensor.allocate(a, DType.U8, Shape.matrix(1, 6));
            Tensor s = Tensor.allocate(a, DType.F16, Shape.matrix(1, 2));
            UniformQuantized ragged = new UniformQuantized(1, 12, CodeWidth.ofBits(4), 8, true, q, s, null, null);
            assertTrue(CompressedTensorsExport.whyNot(ragged).orElseThrow().contains("does not tile d_in 12"));
        }
    }

    @Test void configBlockNamesTheScheme() {
        Map<String, Object> c = CompressedTensorsExport.quantizationConfig(4, 128, true, List.of("lm_head"));
        assertEquals("compressed-tensors", c.get("quant_method"));
        assertEquals("pack-quantized", c.get("format"));
        @SuppressWarnings("unchecked")
        Map<String, Object> w = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) c.get("config_groups")).get("group_0")).get("weights");
        assertEquals(4L, w.get("num_bits"));
        assertEquals("group", w.get("strategy"));
        assertEquals(128L, w.get("group_size"));
        assertEquals(true, w.get("symmetric"));
    }
}
