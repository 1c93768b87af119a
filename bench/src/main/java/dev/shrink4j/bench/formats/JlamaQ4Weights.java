package dev.shrink4j.bench.formats;

import com.github.tjake.jlama.tensor.FloatBufferTensor;
import com.github.tjake.jlama.tensor.Q4ByteBufferTensor;
import com.github.tjake.jlama.tensor.TensorShape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.JlamaQ4;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/** jlama Q4 tensors holding exactly our symmetric int4 group-32 weight, through the {@link JlamaQ4} export. */
final class JlamaQ4Weights {
    private JlamaQ4Weights() {}

    static Q4ByteBufferTensor q4(Arena arena, UniformQuantized w) {
        Map<String, Tensor> t = JlamaQ4.export(arena, "w", w);
        byte[] packed = t.get("w").segment().toArray(ValueLayout.JAVA_BYTE);
        float[] scales = t.get("w" + JlamaQ4.SCALE_SUFFIX).toFloatArray();
        FloatBufferTensor blockF = new FloatBufferTensor(w.dOut(), w.dIn() / JlamaQ4.BLOCK);
        for (int j = 0; j < w.dOut(); j++) {
            for (int b = 0; b < w.dIn() / JlamaQ4.BLOCK; b++) blockF.set(scales[j * (w.dIn() / JlamaQ4.BLOCK) + b], j, b);
        }
        ByteBuffer bb = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
        return new Q4ByteBufferTensor("w", bb, blockF, TensorShape.of(w.dOut(), w.dIn()), false);
    }

    static FloatBufferTensor row(float[] x) {
        FloatBufferTensor t = new FloatBufferTensor(1, x.length);
        for (int i = 0; i < x.length; i++) t.set(x[i], 0, i);
        return t;
    }
}
