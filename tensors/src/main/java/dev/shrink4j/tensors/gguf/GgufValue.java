package dev.shrink4j.tensors.gguf;

import java.util.List;

/**
 * One typed GGUF metadata value. Integers are held as {@code Long} (unsigned 64-bit values that do
 * not fit a signed long keep their bits), floats as {@code Double}, booleans, strings, and arrays as
 * {@link Array}. The declared type is kept so a file re-written from what was read keeps its bytes.
 */
public record GgufValue(Type type, Object value) {

    /** GGUF's {@code gguf_type}, in id order. */
    public enum Type {
        UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(-1), ARRAY(-1),
        UINT64(8), INT64(8), FLOAT64(8);

        /** Fixed byte size, or −1 for strings and arrays. */
        public final int bytes;

        Type(int bytes) {
            this.bytes = bytes;
        }

        boolean integer() {
            return this != FLOAT32 && this != FLOAT64 && this != BOOL && this != STRING && this != ARRAY;
        }
    }

    /** A homogeneous array; nested arrays are allowed by the spec and kept. */
    public record Array(Type elementType, List<Object> values) {
        public Array {
            values = List.copyOf(values);
        }
    }

    public GgufValue {
        Object ok = switch (type) {
            case STRING -> value instanceof String s ? s : null;
            case BOOL -> value instanceof Boolean b ? b : null;
            case FLOAT32, FLOAT64 -> value instanceof Double d ? d : null;
            case ARRAY -> value instanceof Array a ? a : null;
            default -> value instanceof Long l ? l : null;
        };
        if (ok == null) throw new IllegalArgumentException("GGUF " + type + " value cannot hold " + value);
    }

    public static GgufValue string(String s) {
        return new GgufValue(Type.STRING, s);
    }

    public static GgufValue u32(long v) {
        return new GgufValue(Type.UINT32, v);
    }

    public static GgufValue i32(long v) {
        return new GgufValue(Type.INT32, v);
    }

    public static GgufValue f32(double v) {
        return new GgufValue(Type.FLOAT32, (double) (float) v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(Type.BOOL, v);
    }

    public static GgufValue array(Type elementType, List<?> values) {
        return new GgufValue(Type.ARRAY, new Array(elementType, List.copyOf(values)));
    }

    /** The value as a long (integer types only). */
    public long asLong() {
        if (!type.integer()) throw new IllegalStateException("GGUF " + type + " is not an integer");
        return (Long) value;
    }

    public double asDouble() {
        return type.integer() ? (double) (Long) value : (Double) value;
    }

    public String asString() {
        return (String) value;
    }

    public Array asArray() {
        return (Array) value;
    }
}
