package dev.shrink4j.tensors.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.shrink4j.tensors.testing.LlamaCpp;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Our block codec against ggml's own, called in llama.cpp's libraries: the same floats quantize to
 * the same bytes as {@code from_float_ref}, and the same bytes dequantize to the same floats as
 * {@code to_float}, bit for bit, for every type we read (Q4_K/Q6_K bytes come from ggml).
 */
class GgufGgmlReferenceTest {
    private static float[] data(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * (1 + (i / 256) % 5)) + (i % 97 == 0 ? 9f : 0f);
        return x;
    }

    @Test void quantizeAndDequantizeMatchGgmlBitForBit() {
        int n = 256 * 7;
        float[] x = data(n, 11);
        for (GgufType t : GgufType.values()) {
            if (t == GgufType.F32) continue; // ggml has no conversion function for its native type
            byte[] ggml = LlamaCpp.ggmlQuantizeRef(t.id, x, t.bytes(n));
            try (Arena a = Arena.ofConfined()) {
                if (t.writable) {
                    MemorySegment ours = a.allocate(t.bytes(n));
                    GgufBlocks.quantize(t, x, 0, n, ours, 0);
                    assertArrayEquals(ggml, ours.toArray(ValueLayout.JAVA_BYTE), t + " quantize");
                }
                MemorySegment src = a.allocate(ggml.length);
                MemorySegment.copy(ggml, 0, src, ValueLayout.JAVA_BYTE, 0, ggml.length);
                float[] ours = new float[n];
                GgufBlocks.dequantize(t, src, 0, ours, 0, n);
                assertArrayEquals(LlamaCpp.ggmlDequantize(t.id, ggml, n), ours, t + " dequantize");
            }
        }
    }
}
