package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shrink4j.tensors.Floats;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LutQuantizedTest {
    @Test
    void goldenPerRowCodebook() {
        try (Arena arena = Arena.ofConfined()) {
            // 2-bit codes, one codebook per row
            LutQuantized w = LutQuantized.of(arena, 2, 3, 2, 3,
                    new int[] {0, 3, 1, 2, 2, 2},
                    new float[] {-1f, -0.5f, 0.25f, 2f, 10f, 20f, 30f, 40f});
            assertArrayEquals(new float[] {-1f, 2f, -0.5f, 30f, 30f, 30f}, FormatChecks.dense(w));
            float[] y = new float[2];
            w.matvec(new float[] {1, 1, 2}, y, FormatKernels.scalar());
            assertArrayEquals(new float[] {0f, 120f}, y);
        }
    }

    @Test
    void bitsFollowMethodsSection37() {
        try (Arena arena = Arena.ofConfined()) {
            for (int bits : new int[] {2, 3, 4}) {
                int dOut = 4, dIn = 4096;
                LutQuantized w = LutQuantized.builder(arena, dOut, dIn, bits, dIn).build();
                assertEquals(bits + 16.0 * (1 << bits) / dIn, w.bitsPerWeight(), 1e-12, "b + 16·2^b/d_in");
            }
        }
    }

    @Test
    void roundTripExactAndKernelsMatchOnAwkwardShapes() {
        int[][] shapes = {{3, 1, 1}, {4, 33, 33}, {5, 172, 172}, {3, 172, 43}, {4, 512, 128}, {3, 520, 520}, {6, 1024, 256}, {2, 256, 64}};
        long seed = 20;
        try (Arena arena = Arena.ofConfined()) {
            for (int bits : new int[] {2, 3, 4, 8}) {
                for (int[] s : shapes) {
                    Random rnd = new Random(seed++);
                    int ng = UniformQuantized.groups(s[1], s[2]);
                    int[] q = new int[s[0] * s[1]];
                    for (int i = 0; i < q.length; i++) q[i] = rnd.nextInt(1 << bits);
                    float[] lut = FormatChecks.gaussian(rnd, s[0] * ng << bits, 0.1);
                    LutQuantized w = LutQuantized.of(arena, s[0], s[1], bits, s[2], q, lut);
                    float[] d = FormatChecks.dense(w);
                    for (int j = 0; j < s[0]; j++) {
                        for (int i = 0; i < s[1]; i++) {
                            float expect = Floats.f16ToF32(Floats.f32ToF16(lut[((j * ng + i / s[2]) << bits) + q[j * s[1] + i]]));
                            assertEquals(expect, d[j * s[1] + i], 0f);
                        }
                    }
                    FormatChecks.checkKernels(w, seed);
                    FormatChecks.checkRoundTrip(w, "lm.q_proj");
                }
            }
        }
    }
}
