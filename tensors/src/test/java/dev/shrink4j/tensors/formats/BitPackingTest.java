package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BitPackingTest {
    private static final int[] LENGTHS = {1, 2, 3, 7, 8, 9, 33, 172, 255};

    @Test
    void packThenUnpackIsExactForEveryWidthAndAwkwardLength() {
        Random rnd = new Random(1);
        try (Arena arena = Arena.ofConfined()) {
            for (CodeWidth w : CodeWidth.values()) {
                for (int n : LENGTHS) {
                    int[] codes = new int[n];
                    for (int i = 0; i < n; i++) codes[i] = rnd.nextInt(w.maxCode + 1);
                    long rb = w.rowBytes(n);
                    MemorySegment seg = arena.allocate(3 * rb);
                    seg.fill((byte) 0x5A); // neighbours must survive
                    seg.asSlice(rb, rb).fill((byte) 0);
                    BitPacking.packRow(seg, rb, n, w.bits, codes, 0);
                    int[] back = new int[n];
                    BitPacking.unpackRow(seg, rb, n, w.bits, back);
                    assertArrayEquals(codes, back, w + " n=" + n);
                    for (int i = 0; i < n; i++) assertEquals(codes[i], BitPacking.get(seg, rb, i, w.bits));
                    for (long b = 0; b < rb; b++) {
                        assertEquals((byte) 0x5A, seg.get(ValueLayout.JAVA_BYTE, b));
                        assertEquals((byte) 0x5A, seg.get(ValueLayout.JAVA_BYTE, 2 * rb + b));
                    }
                }
            }
        }
    }

    @Test
    void layoutIsLittleEndianWithinTheRowBitStream() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(3);
            // 3-bit codes 1..7,0 fill 3 bytes: bit stream 001 010 011 100 101 110 111 000 (LSB first)
            BitPacking.packRow(seg, 0, 8, 3, new int[] {1, 2, 3, 4, 5, 6, 7, 0}, 0);
            assertArrayEquals(new byte[] {(byte) 0xD1, (byte) 0x58, (byte) 0x1F}, seg.toArray(ValueLayout.JAVA_BYTE));
            MemorySegment four = arena.allocate(1);
            BitPacking.packRow(four, 0, 2, 4, new int[] {0x3, 0xC}, 0);
            assertEquals((byte) 0xC3, four.get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void codesThatDoNotFitAreRejected() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4);
            assertThrows(IllegalArgumentException.class, () -> BitPacking.set(seg, 0, 0, 3, 8));
            assertThrows(IllegalArgumentException.class, () -> BitPacking.set(seg, 0, 0, 2, -1));
        }
    }

    @Test
    void byteArrayPackingWritesTheBytesOfCodeByCodePackingForEveryWidth() {
        Random rnd = new Random(2);
        try (Arena arena = Arena.ofConfined()) {
            for (CodeWidth w : CodeWidth.values()) {
                for (int n : LENGTHS) {
                    byte[] src = new byte[n + 5];
                    int[] codes = new int[n];
                    for (int i = 0; i < n; i++) {
                        codes[i] = rnd.nextInt(w.maxCode + 1);
                        src[3 + i] = (byte) codes[i];
                    }
                    int rb = (int) w.rowBytes(n);
                    MemorySegment seg = arena.allocate(rb);
                    BitPacking.packRow(seg, 0, n, w.bits, codes, 0);
                    byte[] dst = new byte[rb + 4];
                    BitPacking.packRow(src, 3, n, w.bits, dst, 2);
                    byte[] row = java.util.Arrays.copyOfRange(dst, 2, 2 + rb);
                    assertArrayEquals(seg.toArray(ValueLayout.JAVA_BYTE), row, w + " n=" + n);
                    assertEquals(0, dst[0] | dst[1] | dst[rb + 2] | dst[rb + 3], "bytes outside the row untouched");
                }
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BitPacking.packRow(new byte[] {1, 16, 2}, 0, 3, 4, new byte[2], 0));
        assertEquals("code 16 does not fit in 4 bits", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BitPacking.packRow(new byte[] {(byte) 200}, 0, 1, 3, new byte[1], 0));
    }
}
