package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.Map;

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

    /**
     * The tensors of one linear and its {@code shrink4j.tensors} descriptor (null for dense).
     *
     * @param tensors name → tensor, allocated in the caller's arena
     */
    public record Encoded(Map<String, Tensor> tensors, Map<String, Object> descriptor) {}

    /** Encodes {@code r} for {@code module}, values stored as {@code type} (F32, F16 or BF16). */
    public Encoded encode(Arena arena, String module, LowRankCompressor.Result r, DType type) {
        return switch (this) {
            case DENSE -> {
                LowRankFactors f = r.lowRank();
                Tensor w = Tensor.allocate(arena, type, Shape.matrix(f.dOut(), f.dIn()));
                float[] merged = r.merged();
                w.writeFloats(0, merged, 0, merged.length);
                yield new Encoded(Map.of(module + ".weight", w), null);
            }
            case SHRINK4J -> LowRankEncoding.encode(arena, module, r, type);
        };
    }
}
