package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.DenseWeight;
import dev.shrink4j.tensors.formats.LowRank;
import dev.shrink4j.tensors.formats.LowRankColumnSparse;
import java.lang.foreign.Arena;

/** Results as the tensors module's compressed weights: {@link LowRank} or {@link LowRankColumnSparse}. */
public final class LowRankEncoding {
    private LowRankEncoding() {}

    /** The compressed weight of {@code r}; a LOST blend γ is folded into B and W_s (docs/methods/lowrank-lost.md §6). */
    public static CompressedWeight toWeight(Arena arena, LowRankCompressor.Result r, DType type) {
        LostDecomposition lost = r.lost();
        double bScale = lost == null ? 1 : lost.lowRankScale();
        LowRank lr = lowRank(arena, r.lowRank(), bScale, type);
        if (lost == null) return lr;
        float[] values = lost.values();
        if (lost.sparseScale() != 1) {
            values = values.clone();
            for (int i = 0; i < values.length; i++) values[i] = (float) (values[i] * lost.sparseScale());
        }
        return LowRankColumnSparse.of(arena, lr, lost.columns(), values, type);
    }

    private static LowRank lowRank(Arena arena, LowRankFactors f, double bScale, DType type) {
        float[] b = f.b();
        if (bScale != 1) {
            b = b.clone();
            for (int i = 0; i < b.length; i++) b[i] = (float) (b[i] * bScale);
        }
        return new LowRank(dense(arena, f.a(), f.rank(), f.dIn(), type), dense(arena, b, f.dOut(), f.rank(), type));
    }

    private static DenseWeight dense(Arena arena, float[] values, int rows, int cols, DType type) {
        Tensor t = Tensor.allocate(arena, type, Shape.matrix(rows, cols));
        t.writeFloats(0, values, 0, values.length);
        return new DenseWeight(t);
    }
}
