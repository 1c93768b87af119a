package dev.shrink4j.lowrank;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.LowRank;
import dev.shrink4j.tensors.formats.LowRankColumnSparse;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

class LowRankEncodingTest {
    private static final float F32_TOL = 1e-5f;

    private static LowRankCompressor.Result result(LostDecomposition d) {
        return new LowRankCompressor.Result(d.lowRank(), d, d.reconstruct(), d.params(), 0, Double.NaN, Double.NaN);
    }

    @Test
    void foldsTheTrainingBlendIntoTheStoredFactorsAndColumns() {
        float[] w = TestMatrices.gaussian(20, 16, 3);
        // γ = 0.5 with values copied from W: Ŵ = γ·BA + (1 − γ)·scatter(W[:, I]) must survive the format.
        LostDecomposition d = new Lost(new Lost.Options(0.25, 4, Lost.Values.ORIGINAL, Lost.Selection.L2, 0.5, 0)).decompose(w, 20, 16, 5, 4);
        try (Arena arena = Arena.ofConfined()) {
            CompressedWeight cw = LowRankEncoding.toWeight(arena, result(d), DType.F32);
            LowRankColumnSparse lcs = assertInstanceOf(LowRankColumnSparse.class, cw);
            assertEquals(4, lcs.columns());
            float[] stored = cw.dequantize(arena).toFloatArray();
            float[] expect = d.reconstruct();
            for (int i = 0; i < expect.length; i++) assertEquals(expect[i], stored[i], F32_TOL);
            float[] x = TestMatrices.gaussian(1, 16, 4);
            float[] y = new float[20];
            cw.matvec(x, y);
            for (int o = 0; o < 20; o++) {
                double s = 0;
                for (int i = 0; i < 16; i++) s += expect[o * 16 + i] * x[i];
                assertEquals(s, y[o], F32_TOL * 10);
            }
        }
    }

    @Test
    void plainFactorsBecomeTheLowRankFormatInTheRequestedType() {
        float[] w = TestMatrices.gaussian(12, 10, 5);
        LowRankFactors f = new TruncatedSvd().compress(w, 12, 10, 3);
        try (Arena arena = Arena.ofConfined()) {
            CompressedWeight cw = LowRankEncoding.toWeight(arena,
                    new LowRankCompressor.Result(f, null, f.reconstruct(), f.params(), 0, Double.NaN, Double.NaN), DType.BF16);
            LowRank lr = assertInstanceOf(LowRank.class, cw);
            assertEquals(3, lr.rank());
            assertEquals(DType.BF16, ((dev.shrink4j.tensors.formats.DenseWeight) lr.a()).weight().dtype());
            assertEquals(8.0 * 2 * 3 * (12 + 10) / (12 * 10), cw.bitsPerWeight(), 1e-12); // 16-bit factors
        }
    }
}
