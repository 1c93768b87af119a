package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.github.tjake.jlama.tensor.FloatBufferTensor;
import com.github.tjake.jlama.tensor.Q4ByteBufferTensor;
import com.github.tjake.jlama.tensor.TensorShape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The jlama Q4 export is checked against jlama-core 0.8.4's own reader, {@code Q4ByteBufferTensor.get}. */
class JlamaQ4Test {
    @Test
    void exportedBytesReadBackInJlamaAsOurDequantizedValues() {
        Random rnd = new Random(60);
        int dOut = 5, dIn = 96;
        try (Arena arena = Arena.ofConfined()) {
            UniformQuantized w = UniformQuantized.rtn(arena, FormatChecks.gaussian(rnd, dOut * dIn, 0.1), dOut, dIn, 4, 32, true);
            Map<String, Tensor> t = JlamaQ4.export(arena, "x.weight", w);
            Tensor packed = t.get("x.weight"), qb = t.get("x.weight.qb");
            assertArrayEquals(new long[] {dOut, dIn / 2}, packed.shape().dims());
            assertArrayEquals(new long[] {dOut, dIn / 32}, qb.shape().dims());

            ByteBuffer bytes = packed.segment().asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            FloatBuffer scales = ByteBuffer.allocate((int) qb.byteSize()).order(ByteOrder.LITTLE_ENDIAN).put(qb.segment().asByteBuffer()).flip().asFloatBuffer();
            FloatBufferTensor blockF = new FloatBufferTensor(scales, TensorShape.of(dOut, dIn / 32), false);
            Q4ByteBufferTensor jq = new Q4ByteBufferTensor("x.weight", bytes, blockF, TensorShape.of(dOut, dIn), false);
            float[] ours = FormatChecks.dense(w);
            for (int j = 0; j < dOut; j++) {
                for (int i = 0; i < dIn; i++) {
                    assertEquals(ours[j * dIn + i], jq.get(j, i), 0f, "element (" + j + ", " + i + ")");
                }
            }
            UniformQuantized back = JlamaQ4.fromJlama(arena, dOut, dIn, packed, qb);
            assertArrayEquals(ours, FormatChecks.dense(back));
        }
    }

    @Test
    void byteLayoutPairsElementJWithJPlus16() {
        try (Arena arena = Arena.ofConfined()) {
            int[] q = new int[32];
            for (int i = 0; i < 32; i++) q[i] = i % 16;
            UniformQuantized w = UniformQuantized.of(arena, 1, 32, 4, 32, q, new float[] {1f}, null, null);
            Tensor packed = JlamaQ4.export(arena, "w", w).get("w");
            for (int j = 0; j < 16; j++) {
                int b = packed.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, j) & 0xFF;
                assertEquals(q[j], b & 0xF);
                assertEquals(q[j + 16], b >>> 4);
            }
        }
    }

    @Test
    void onlySymmetricInt4GroupOf32Maps() {
        Random rnd = new Random(61);
        try (Arena arena = Arena.ofConfined()) {
            float[] wf = FormatChecks.gaussian(rnd, 2 * 64, 1);
            assertThrows(ShrinkException.class, () -> JlamaQ4.export(arena, "w", UniformQuantized.rtn(arena, wf, 2, 64, 4, 32, false)));
            assertThrows(ShrinkException.class, () -> JlamaQ4.export(arena, "w", UniformQuantized.rtn(arena, wf, 2, 64, 4, 64, true)));
            assertThrows(ShrinkException.class, () -> JlamaQ4.export(arena, "w", UniformQuantized.rtn(arena, wf, 2, 64, 3, 32, true)));
        }
    }
}
