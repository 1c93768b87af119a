package dev.shrink4j.tensors.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void parsesAndWritesRoundTrip() {
        Object v = Json.parse("{\"a\": [1, 2.5, -3e2, true, null], \"b\": {\"c\": \"x\\u00e9\\n\"}}");
        assertEquals(Map.of("c", "xé\n"), ((Map<?, ?>) v).get("b"));
        assertEquals(List.of(1L, 2.5, -300.0, true), ((List<?>) ((Map<?, ?>) v).get("a")).subList(0, 4));
        assertEquals(v, Json.parse(Json.write(v, 2)));
        assertEquals(v, Json.parse(Json.write(v, 0)));
    }

    @Test
    void rejectsInvalidInput() {
        for (String bad : new String[] {"", "{", "{\"a\":1,}", "[01]", "{\"a\":1}x", "\"\\q\"", "{\"a\":1,\"a\":2}", "nul"}) {
            assertThrows(Json.JsonException.class, () -> Json.parse(bad), bad);
        }
    }
}
