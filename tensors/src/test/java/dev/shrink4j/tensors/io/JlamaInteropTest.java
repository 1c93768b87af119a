package dev.shrink4j.tensors.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.github.tjake.jlama.safetensors.SafeTensorIndex;
import com.github.tjake.jlama.tensor.AbstractTensor;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint written by shrink4j loads in jlama 0.8.4 (an independent reader) with identical values. */
class JlamaInteropTest {
    @TempDir Path dir;

    @Test
    void jlamaReadsOurShardedCheckpoint() throws Exception {
        Path out = dir.resolve("ckpt");
        float[] a = CheckpointWriterTest.random(96 * 64, 1);
        float[] b = CheckpointWriterTest.random(32 * 64, 2);
        try (Arena arena = Arena.ofConfined();
                CheckpointWriter w = CheckpointWriter.create(out, CheckpointWriter.Options.defaults().withMaxShardBytes(20_000))) {
            w.add("model.layers.0.mlp.up_proj.weight", Tensor.ofFloats(arena, Shape.of(96, 64), a));
            w.add("model.layers.0.mlp.gate_proj.weight", Tensor.ofFloats(arena, Shape.of(32, 64), b).convert(arena, DType.BF16));
            w.commit();
        }
        try (SafeTensorIndex idx = SafeTensorIndex.loadWithWeights(out)) {
            AbstractTensor ja = idx.load("model.layers.0.mlp.up_proj.weight");
            assertEquals(96, ja.shape().dim(0));
            assertEquals(64, ja.shape().dim(1));
            for (int r = 0; r < 96; r++) {
                for (int c = 0; c < 64; c++) {
                    assertEquals(a[r * 64 + c], ja.get(r, c), "up_proj[" + r + "," + c + "]");
                }
            }
            AbstractTensor jb = idx.load("model.layers.0.mlp.gate_proj.weight");
            try (Arena arena = Arena.ofConfined()) {
                Tensor mine = Tensor.ofFloats(arena, Shape.of(32, 64), b).convert(arena, DType.BF16);
                for (int i = 0; i < 32 * 64; i++) {
                    assertEquals(mine.getFloat(i), jb.get(i / 64, i % 64), "gate_proj flat " + i);
                }
            }
        }
    }
}
