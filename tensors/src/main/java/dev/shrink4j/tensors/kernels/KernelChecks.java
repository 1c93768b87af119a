package dev.shrink4j.tensors.kernels;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Tensor;

/** Argument checks shared by the implementations (programming errors, hence unchecked exceptions). */
public final class KernelChecks {
    private KernelChecks() {}

    /** A rank-2 F32/BF16/F16 tensor whose dimensions fit in an int. */
    public static void matrix(Tensor w, String what) {
        if (w.shape().rank() != 2) {
            throw new IllegalArgumentException(what + " must be a matrix (rows, cols), got " + w);
        }
        if (w.shape().dim(0) > Integer.MAX_VALUE || w.shape().dim(1) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " " + w + " has a dimension beyond 2^31");
        }
        floating16or32(w, what);
    }

    public static void floating16or32(Tensor t, String what) {
        DType d = t.dtype();
        if (d != DType.F32 && d != DType.BF16 && d != DType.F16) {
            throw new IllegalArgumentException(what + " must be F32, BF16 or F16, got " + t);
        }
    }

    /** True for BF16, false for F16; throws for anything else. */
    public static boolean sixteenBit(DType d) {
        return switch (d) {
            case BF16 -> true;
            case F16 -> false;
            default -> throw new IllegalArgumentException("expected BF16 or F16, got " + d);
        };
    }
}
