package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads any compressed weight back from its named tensors and descriptor, and the small checks the
 * formats share. A checkpoint reader passes the module name, the module's entry of the config's
 * {@code shrink4j.tensors} block and a name → tensor map (typically the whole checkpoint's).
 */
public final class Formats {
    /** Float element types a format may store values, scales, codebooks or factors in. */
    public static final Set<DType> FLOAT_TYPES = Set.of(DType.F32, DType.F16, DType.BF16);

    private Formats() {}

    /** Rebuilds the weight of {@code module} from its descriptor and tensors (views, no copies). */
    public static CompressedWeight fromTensors(String module, Map<String, ?> descriptor, Map<String, Tensor> tensors) {
        try {
            return read(module, descriptor, tensors);
        } catch (IllegalArgumentException | ArithmeticException e) {
            // The formats' constructors check their invariants (N:M counts, index ranges, sizes) for every
            // caller; a file that breaks one is malformed, and its reader says so in the one documented way.
            throw new ShrinkException("module '" + module + "': " + e.getMessage(), e);
        }
    }

    private static CompressedWeight read(String module, Map<String, ?> descriptor, Map<String, Tensor> tensors) {
        String format = string(module, descriptor, "format");
        return switch (format) {
            case DenseWeight.FORMAT -> DenseWeight.fromTensors(module, descriptor, tensors);
            case UniformQuantized.FORMAT -> UniformQuantized.fromTensors(module, descriptor, tensors);
            case LutQuantized.FORMAT -> LutQuantized.fromTensors(module, descriptor, tensors);
            case CsrSparse.FORMAT -> CsrSparse.fromTensors(module, descriptor, tensors);
            case DenseAndSparse.FORMAT -> DenseAndSparse.fromTensors(module, descriptor, tensors);
            case NmSparse.FORMAT -> NmSparse.fromTensors(module, descriptor, tensors);
            case NmQuantized.FORMAT -> NmQuantized.fromTensors(module, descriptor, tensors);
            case LowRank.FORMAT -> LowRank.fromTensors(module, descriptor, tensors);
            case LowRankColumnSparse.FORMAT -> LowRankColumnSparse.fromTensors(module, descriptor, tensors);
            case LostSilu.FORMAT -> LostSilu.fromTensors(module, descriptor, tensors);
            case GgufBlockWeight.FORMAT -> GgufBlockWeight.fromTensors(module, descriptor, tensors);
            default -> throw new ShrinkException("module '" + module + "': unknown compressed format '" + format
                    + "'; known: dense, uniform, lut, csr, dense_and_sparse, nm, nm_uniform, low_rank, low_rank_column_sparse, lost_silu, gguf_blocks");
        };
    }

    /** The tensor {@code name}, which must exist with one of {@code dtypes} and exactly {@code dims}. */
    static Tensor require(Map<String, Tensor> tensors, String name, Set<DType> dtypes, long... dims) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new ShrinkException("missing tensor '" + name + "' (expected " + dtypes + " " + Arrays.toString(dims) + ")");
        }
        checkTensor(name, t, dtypes, dims);
        return t;
    }

    static void checkTensor(String name, Tensor t, Set<DType> dtypes, long... dims) {
        if (!dtypes.contains(t.dtype()) || !Arrays.equals(t.shape().dims(), dims)) {
            throw new ShrinkException("tensor '" + name + "': expected " + dtypes + " " + Arrays.toString(dims)
                    + ", found " + t.dtype() + " " + Arrays.toString(t.shape().dims()));
        }
    }

    static void checkVector(String what, Tensor t, long n) {
        if (t.numel() != n || t.shape().rank() > 1 && t.shape().dim(0) != 1 && t.shape().rank() != 1) {
            throw new IllegalArgumentException(what + " must have " + n + " elements, got " + t.shape());
        }
    }

    static String string(String module, Map<String, ?> d, String key) {
        Object v = d.get(key);
        if (!(v instanceof String s)) {
            throw new ShrinkException("module '" + module + "': descriptor key '" + key + "' must be a string, found " + v);
        }
        return s;
    }

    static int integer(String module, Map<String, ?> d, String key) {
        Object v = d.get(key);
        if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
            throw new ShrinkException("module '" + module + "': descriptor key '" + key + "' must be an integer, found " + v);
        }
        return Math.toIntExact(n.longValue());
    }

    static boolean bool(String module, Map<String, ?> d, String key, boolean dflt) {
        Object v = d.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof Boolean b)) {
            throw new ShrinkException("module '" + module + "': descriptor key '" + key + "' must be true or false, found " + v);
        }
        return b;
    }

    /** The descriptor's {@code "shape": [d_out, d_in]}. */
    static int[] shape(String module, Map<String, ?> d) {
        Object v = d.get("shape");
        if (v instanceof List<?> l && l.size() == 2 && l.get(0) instanceof Number a && l.get(1) instanceof Number b) {
            return new int[] {Math.toIntExact(a.longValue()), Math.toIntExact(b.longValue())};
        }
        throw new ShrinkException("module '" + module + "': descriptor key 'shape' must be [d_out, d_in], found " + v);
    }

    @SuppressWarnings("unchecked")
    static Map<String, ?> map(String module, Map<String, ?> d, String key) {
        Object v = d.get(key);
        if (!(v instanceof Map<?, ?> m)) {
            throw new ShrinkException("module '" + module + "': descriptor key '" + key + "' must be an object, found " + v);
        }
        return (Map<String, ?>) m;
    }

    static void requireFloat(String name, Tensor t) {
        if (!FLOAT_TYPES.contains(t.dtype())) {
            throw new IllegalArgumentException(name + " must be F32, F16 or BF16, got " + t.dtype());
        }
    }

    static Shape matrix(long rows, long cols) {
        return Shape.matrix(rows, cols);
    }
}
