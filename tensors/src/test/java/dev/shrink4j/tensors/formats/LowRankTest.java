package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LowRankTest {
    @Test
    void goldenRankOneAndLostColumns() {
        try (Arena arena = Arena.ofConfined()) {
            LowRank lr = new LowRank(DenseWeight.ofFloats(arena, 1, 3, new float[] {1, 2, 3}), DenseWeight.ofFloats(arena, 2, 1, new float[] {1, -1}));
            assertArrayEquals(new float[] {1, 2, 3, -1, -2, -3}, FormatChecks.dense(lr));
            LowRankColumnSparse lost = LowRankColumnSparse.of(arena, lr, new int[] {2}, new float[] {10, 20}, DType.F32);
            assertArrayEquals(new float[] {1, 2, 13, -1, -2, 17}, FormatChecks.dense(lost));
            float[] y = new float[2];
            lost.matvec(new float[] {1, 0, 1}, y, FormatKernels.scalar());
            assertArrayEquals(new float[] {14, 16}, y);
            assertThrows(IllegalArgumentException.class, () -> LowRankColumnSparse.of(arena, lr, new int[] {2, 1}, new float[4], DType.F32));
        }
    }

    @Test
    void parameterCountFollowsMethodsSection72() {
        try (Arena arena = Arena.ofConfined()) {
            int dOut = 64, dIn = 96, r = 8, c = 5;
            LowRank lr = new LowRank(new DenseWeight(Tensor.allocate(arena, DType.F16, Shape.matrix(r, dIn))),
                    new DenseWeight(Tensor.allocate(arena, DType.F16, Shape.matrix(dOut, r))));
            LowRankColumnSparse lost = LowRankColumnSparse.of(arena, lr, new int[] {0, 7, 9, 50, 95}, new float[dOut * c], DType.F16);
            // r(d_in + d_out) + c·d_out values at 16 bits + c int32 ids
            assertEquals(16.0 * (r * (dIn + dOut) + c * dOut) + 32.0 * c, 8.0 * lost.storageBytes(), 1e-9);
        }
    }

    @Test
    void kernelsAndRoundTripOverDtypes() {
        long seed = 50;
        try (Arena arena = Arena.ofConfined()) {
            for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                for (int[] s : new int[][] {{1, 1, 1}, {7, 33, 3}, {17, 172, 16}, {40, 300, 5}}) {
                    Random rnd = new Random(seed++);
                    Tensor a = Tensor.ofFloats(arena, Shape.matrix(s[2], s[1]), FormatChecks.gaussian(rnd, s[2] * s[1], 1)).convert(arena, dt);
                    Tensor b = Tensor.ofFloats(arena, Shape.matrix(s[0], s[2]), FormatChecks.gaussian(rnd, s[0] * s[2], 1)).convert(arena, dt);
                    LowRank lr = new LowRank(new DenseWeight(a), new DenseWeight(b));
                    FormatChecks.checkKernels(lr, seed);
                    FormatChecks.checkRoundTrip(lr, "m");
                    int c = Math.max(1, s[1] / 20);
                    int[] cols = new int[c];
                    for (int k = 0; k < c; k++) cols[k] = k * (s[1] / c);
                    LowRankColumnSparse lost = LowRankColumnSparse.of(arena, lr, cols, FormatChecks.gaussian(rnd, s[0] * c, 1), dt);
                    FormatChecks.checkKernels(lost, seed);
                    FormatChecks.checkRoundTrip(lost, "m");
                    DenseWeight dense = new DenseWeight(Tensor.ofFloats(arena, Shape.matrix(s[0], s[1]), FormatChecks.gaussian(rnd, s[0] * s[1], 1)).convert(arena, dt));
                    FormatChecks.checkKernels(dense, seed);
                    FormatChecks.checkRoundTrip(dense, "m");
                }
            }
        }
    }

    /** Quantized factors (int4/int8, ragged groups, symmetric or not) at awkward sizes: kernels against the spec, and the round trip. */
    @Test
    void quantizedFactorsKernelsAndRoundTrip() {
        long seed = 70;
        try (Arena arena = Arena.ofConfined()) {
            for (int[] s : new int[][] {{1, 1, 1}, {7, 33, 3}, {17, 172, 16}, {40, 300, 5}, {65, 131, 33}}) {
                for (int bits : new int[] {4, 8}) {
                    Random rnd = new Random(seed++);
                    UniformQuantized a = UniformQuantized.rtn(arena, FormatChecks.gaussian(rnd, s[2] * s[1], 1), s[2], s[1], bits, 32, bits == 4);
                    UniformQuantized b = UniformQuantized.rtn(arena, FormatChecks.gaussian(rnd, s[0] * s[2], 1), s[0], s[2], bits, 7, bits != 4);
                    LowRank lr = new LowRank(a, b);
                    FormatChecks.checkKernels(lr, seed);
                    FormatChecks.checkRoundTrip(lr, "m");
                    // mixed: dense A, quantized B
                    LowRank mixed = new LowRank(DenseWeight.ofFloats(arena, s[2], s[1], FormatChecks.gaussian(rnd, s[2] * s[1], 1)), b);
                    FormatChecks.checkRoundTrip(mixed, "m");
                    int c = Math.max(1, s[1] / 20);
                    int[] cols = new int[c];
                    for (int k = 0; k < c; k++) cols[k] = k * (s[1] / c);
                    LowRankColumnSparse lost = LowRankColumnSparse.of(arena, lr, cols, FormatChecks.gaussian(rnd, s[0] * c, 1), DType.F16);
                    FormatChecks.checkKernels(lost, seed);
                    FormatChecks.checkRoundTrip(lost, "m");
                    // quantized column values too
                    LowRankColumnSparse lostQ = new LowRankColumnSparse(lr, lost.cols(), UniformQuantized.rtn(arena, FormatChecks.gaussian(rnd, s[0] * c, 1), s[0], c, bits, 32, false));
                    FormatChecks.checkKernels(lostQ, seed);
                    FormatChecks.checkRoundTrip(lostQ, "m");
                    LostSilu silu = new LostSilu(lr, lost.cols(), lostQ.colValues(), 0.7);
                    java.util.Map<String, Tensor> t = silu.toTensors("m");
                    LostSilu back = (LostSilu) Formats.fromTensors("m", silu.descriptor(), t);
                    assertEquals(silu.descriptor(), back.descriptor());
                    float[] x = FormatChecks.gaussian(rnd, s[1], 1), y1 = new float[s[0]], y2 = new float[s[0]];
                    silu.matvec(x, y1, FormatKernels.scalar());
                    back.matvec(x, y2, FormatKernels.scalar());
                    assertArrayEquals(y1, y2);
                }
            }
        }
    }

    /** Golden: B·A from hand-made int8 codes (symmetric: z = 128), then the descriptor's factor shapes are checked. */
    @Test
    void goldenQuantizedFactorsAndShapeLies() {
        try (Arena arena = Arena.ofConfined()) {
            // A = 0.5·([130, 132, 126] − 128) = [1, 2, −1]; B = 2·([129, 127] − 128) = [2, −2]
            UniformQuantized a = UniformQuantized.of(arena, 1, 3, 8, 3, new int[] {130, 132, 126}, new float[] {0.5f}, null, null);
            UniformQuantized b = UniformQuantized.of(arena, 2, 1, 8, 1, new int[] {129, 127}, new float[] {2f, 2f}, null, null);
            LowRank lr = new LowRank(a, b);
            assertArrayEquals(new float[] {2, 4, -2, -2, -4, 2}, FormatChecks.dense(lr));
            java.util.Map<String, Object> d = new java.util.LinkedHashMap<>(lr.descriptor());
            d.put("rank", 2);
            java.util.Map<String, Object> dd = d;
            assertThrows(dev.shrink4j.tensors.ShrinkException.class, () -> Formats.fromTensors("m", dd, lr.toTensors("m")));
            java.util.Map<String, Object> nested = new java.util.LinkedHashMap<>(lr.descriptor());
            nested.put("factors", java.util.Map.of("a", lr.descriptor(), "b", b.descriptor()));
            assertThrows(dev.shrink4j.tensors.ShrinkException.class, () -> Formats.fromTensors("m", nested, lr.toTensors("m")));
        }
    }

    /** A mapped checkpoint may place {@code .cols} at an odd offset (after U8 codes): the ids still read. */
    @Test
    void columnIdsReadFromAnUnalignedTensor() {
        try (Arena arena = Arena.ofConfined()) {
            LowRank lr = new LowRank(DenseWeight.ofFloats(arena, 1, 3, new float[] {1, 2, 3}), DenseWeight.ofFloats(arena, 2, 1, new float[] {1, -1}));
            java.lang.foreign.MemorySegment raw = arena.allocate(1 + 8, 8);
            Tensor cols = Tensor.wrap(DType.I32, Shape.of(2), raw.asSlice(1, 8));
            cols.segment().setAtIndex(Tensor.I32, 0, 0);
            cols.segment().setAtIndex(Tensor.I32, 1, 2);
            LowRankColumnSparse lost = new LowRankColumnSparse(lr, cols, new DenseWeight(Tensor.ofFloats(arena, Shape.matrix(2, 2), new float[] {10, 20, 30, 40})));
            assertArrayEquals(new int[] {0, 2}, lost.columnIds());
            assertArrayEquals(new float[] {11, 2, 23, 29, -2, 37}, FormatChecks.dense(lost));
        }
    }
}
