package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.formats.CsrSparse;
import dev.shrink4j.tensors.formats.NmSparse;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class SparseStorageTest {
    @Test
    void valuesAreF16UnlessTheSourceIsBf16OrAValueOverflows() {
        float[] w = {0, 1.5f, -65504f, 0.1f};
        assertEquals(DType.F16, SparseStorage.valueType(DType.F32, w));
        assertEquals(DType.F16, SparseStorage.valueType(DType.F16, w));
        assertEquals(DType.BF16, SparseStorage.valueType(DType.BF16, w));
        // 65519 still rounds to F16's largest finite value; 65520 rounds to infinity
        assertEquals(DType.F16, SparseStorage.valueType(DType.F32, new float[] {65519f}));
        assertEquals(DType.F32, SparseStorage.valueType(DType.F32, new float[] {0, -65520f}));
    }

    @Test
    void storedCsrAndNmHoldTheRoundedValues() {
        // 0.1 is not an F16: the in-memory copy rounded by round() equals what the formats store
        float[] w = {0, 0.1f, 0, -3f, /**/ 0.2f, 0, 0.3f, 0};
        float[] rounded = w.clone();
        SparseStorage.round(rounded, DType.F16);
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(0.1f)), rounded[1], 0f);
        try (Arena arena = Arena.ofConfined()) {
            float[] original = w.clone();
            CsrSparse c = SparseStorage.csr(arena, w, 2, 4, DType.F32);
            assertArrayEquals(rounded, w, "the caller's copy is rounded to what is stored");
            assertEquals(DType.F16, c.values().dtype());
            assertEquals(4 * 2 + 4 * 4 + 3 * 4, c.storageBytes()); // 4 F16 values, 4 I32 columns, 3 I32 row pointers
            NmSparse n = SparseStorage.nm(arena, original, 2, 4, NmPattern.parse("2:4", "--pattern"), DType.F32);
            assertEquals(DType.F16, n.values().dtype());
            float[] dc = new float[8], dn = new float[8];
            for (int j = 0; j < 2; j++) {
                c.dequantizeRow(j, dc, 4 * j);
                n.dequantizeRow(j, dn, 4 * j);
            }
            assertArrayEquals(rounded, dc);
            assertArrayEquals(rounded, dn);
            assertArrayEquals(rounded, original);
        }
    }

    @Test
    void bytesWarnOnlyWhenTheOutputGrew() {
        SparseStorage.Bytes smaller = SparseStorage.Bytes.ZERO.plus(600, 1000).plus(100, 200);
        assertEquals(new SparseStorage.Bytes(700, 1200), smaller);
        assertFalse(smaller.larger());
        assertEquals("", smaller.warning());
        SparseStorage.Bytes larger = new SparseStorage.Bytes(1500, 1000);
        assertTrue(larger.larger());
        assertEquals("warning: the pruned linears take 1,500 B, more than the 1,000 B of the dense input (1.50×); "
                + "at this sparsity dense storage is smaller", larger.warning());
    }
}
