package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.DenseWeight;
import java.lang.foreign.Arena;

/** How a factorized linear is written to the output checkpoint. */
public enum LowRankFormat {
    /** The factors (and kept columns) in the shrink4j low-rank formats: fewer values, y = B(Ax) (+ W_s x_I). */
    SHRINK4J("shrink4j"),
    /** Ŵ merged back into a dense {@code .weight} any HF engine loads (accuracy checks only, no savings). */
    DENSE("dense");

    private final String cliName;

    LowRankFormat(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    public static LowRankFormat parse(String name) {
        for (LowRankFormat f : values()) {
            if (f.cliName.equals(name)) return f;
        }
        throw new ShrinkException("unknown output format '" + name + "'; expected shrink4j or dense");
    }

    /** Ŵ of {@code r} in this format, values stored as {@code type} (F32, F16 or BF16), allocated in {@code arena}. */
    public CompressedWeight encode(Arena arena, LowRankCompressor.Result r, DType type) {
        return switch (this) {
            case DENSE -> {
                LowRankFactors f = r.lowRank();
                Tensor w = Tensor.allocate(arena, type, Shape.matrix(f.dOut(), f.dIn()));
                w.writeFloats(0, r.merged(), 0, r.merged().length);
                yield new DenseWeight(w);
            }
            case SHRINK4J -> LowRankEncoding.toWeight(arena, r, type);
        };
    }
}
