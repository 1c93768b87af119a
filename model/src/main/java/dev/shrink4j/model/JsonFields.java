package dev.shrink4j.model;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Typed reads from the project's one JSON object model ({@link dev.shrink4j.tensors.io.Json}: maps,
 * lists, strings, {@code Long}/{@code Double}, booleans, null), with defaults for absent or null keys.
 */
final class JsonFields {
    private JsonFields() {}

    static Object get(Object obj, String key) {
        return obj instanceof Map<?, ?> m ? m.get(key) : null;
    }

    /** The object at {@code key}, or null when absent or not an object. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Object obj, String key) {
        return get(obj, key) instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
    }

    /** The array at {@code key}; empty when absent or not an array. */
    static List<?> list(Object obj, String key) {
        return get(obj, key) instanceof List<?> l ? l : List.of();
    }

    static boolean has(Object obj, String key) {
        return get(obj, key) != null;
    }

    /** A string value; a number or boolean as its text; {@code def} when absent or null. */
    static String text(Object obj, String key, String def) {
        return text(get(obj, key), def);
    }

    static String text(Object v, String def) {
        if (v == null || v instanceof Map || v instanceof List) return def;
        return String.valueOf(v);
    }

    static int integer(Object obj, String key, int def) {
        return get(obj, key) instanceof Number n ? n.intValue() : def;
    }

    static double number(Object obj, String key, double def) {
        return get(obj, key) instanceof Number n ? n.doubleValue() : def;
    }

    static boolean bool(Object obj, String key, boolean def) {
        return get(obj, key) instanceof Boolean b ? b : def;
    }

    /** {@code file} parsed as a JSON object; one clear message naming the file otherwise. */
    static Map<String, Object> readObject(Path file) {
        try {
            if (Json.parse(Files.readString(file)) instanceof Map<?, ?> m) {
                @SuppressWarnings("unchecked")
                Map<String, Object> map = (Map<String, Object>) m;
                return map;
            }
            throw new ShrinkException(file + ": not a JSON object");
        } catch (IOException | Json.JsonException e) {
            throw new ShrinkException("cannot parse " + file + ": " + e.getMessage(), e);
        }
    }
}
