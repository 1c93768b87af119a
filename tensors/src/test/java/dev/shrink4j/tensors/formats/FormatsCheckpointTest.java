package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.io.SafetensorsFile;
import dev.shrink4j.tensors.io.SafetensorsWriter;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoint path end to end on the demo model's down_proj (64 × 172, the ragged-group shape):
 * every format is written with the safetensors writer, its descriptor goes through JSON, and the
 * weight read back from the mapped file multiplies exactly like the one written.
 */
class FormatsCheckpointTest {
    private static final String DOWN = "model.layers.0.mlp.down_proj";

    @Test
    void everyFormatSurvivesSafetensorsAndJson(@TempDir Path dir) {
        try (Arena arena = Arena.ofConfined()) {
            float[] w;
            try (Arena file = Arena.ofConfined()) {
                w = SafetensorsFile.open(TestData.demoModel().resolve("model.safetensors"), file).tensor(DOWN + ".weight").toFloatArray();
            }
            int dOut = 64, dIn = 172;
            float[] residual = new float[w.length];
            for (int i = 0; i < w.length; i += 97) residual[i] = w[i];
            float[] nm = w.clone();
            for (int i = 0; i < nm.length; i += 4) { // keep the 2 largest of every 4 (magnitude 2:4)
                for (int drop = 0; drop < 2; drop++) {
                    int best = -1;
                    for (int k = 0; k < 4; k++) {
                        if (nm[i + k] != 0 && (best < 0 || Math.abs(nm[i + k]) < Math.abs(nm[i + best]))) best = k;
                    }
                    nm[i + best] = 0;
                }
            }
            LowRank lr = new LowRank(
                    new DenseWeight(Tensor.ofFloats(arena, Shape.matrix(8, dIn), FormatChecks.gaussian(new java.util.Random(1), 8 * dIn, 0.1)).convert(arena, DType.F16)),
                    new DenseWeight(Tensor.ofFloats(arena, Shape.matrix(dOut, 8), FormatChecks.gaussian(new java.util.Random(2), dOut * 8, 0.1)).convert(arena, DType.BF16)));
            int[] codes = new int[dOut * dIn];
            for (int i = 0; i < codes.length; i++) codes[i] = Math.floorMod(Float.floatToIntBits(w[i]), 8);
            Map<String, CompressedWeight> weights = new LinkedHashMap<>();
            weights.put("m.uniform", UniformQuantized.rtn(arena, w, dOut, dIn, 3, 32, false));
            weights.put("m.uniform_sym4", UniformQuantized.rtn(arena, w, dOut, dIn, 4, 128, true));
            weights.put("m.lut", LutQuantized.of(arena, dOut, dIn, 3, dIn, codes, FormatChecks.gaussian(new java.util.Random(3), dOut * 8, 0.05)));
            weights.put("m.dense_and_sparse", new DenseAndSparse(UniformQuantized.rtn(arena, w, dOut, dIn, 2, 64, false), CsrSparse.fromDense(arena, residual, dOut, dIn)));
            weights.put("m.nm", NmSparse.fromDense(arena, nm, dOut, dIn, 2, 4));
            weights.put("m.low_rank", lr);
            weights.put("m.lost", LowRankColumnSparse.of(arena, lr, new int[] {3, 50, 171}, FormatChecks.gaussian(new java.util.Random(4), dOut * 3, 0.1), DType.F16));
            weights.put("m.dense", DenseWeight.ofFloats(arena, dOut, dIn, w));

            Map<String, Tensor> all = new LinkedHashMap<>();
            Map<String, Object> config = new LinkedHashMap<>();
            for (var e : weights.entrySet()) {
                all.putAll(e.getValue().toTensors(e.getKey()));
                config.put(e.getKey(), e.getValue().descriptor());
            }
            Path file = dir.resolve("model.safetensors");
            SafetensorsWriter.write(file, all, Map.of(), false);
            @SuppressWarnings("unchecked")
            Map<String, Object> parsed = (Map<String, Object>) Json.parse(Json.write(Map.of("tensors", config), 2));
            @SuppressWarnings("unchecked")
            Map<String, Object> tensorsBlock = (Map<String, Object>) parsed.get("tensors");

            float[] x = FormatChecks.gaussian(new java.util.Random(5), dIn, 1);
            try (Arena mapped = Arena.ofConfined()) {
                SafetensorsFile sf = SafetensorsFile.open(file, mapped);
                Map<String, Tensor> read = new HashMap<>();
                for (String name : sf.names()) read.put(name, sf.tensor(name));
                for (var e : weights.entrySet()) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> d = (Map<String, Object>) tensorsBlock.get(e.getKey());
                    CompressedWeight back = Formats.fromTensors(e.getKey(), d, read);
                    CompressedWeight orig = e.getValue();
                    assertEquals(orig.getClass(), back.getClass(), e.getKey());
                    assertEquals(orig.storageBytes(), back.storageBytes(), e.getKey());
                    assertArrayEquals(FormatChecks.dense(orig), FormatChecks.dense(back), e.getKey());
                    float[] y0 = new float[dOut], y1 = new float[dOut];
                    orig.matvec(x, y0);
                    back.matvec(x, y1);
                    assertArrayEquals(y0, y1, e.getKey());
                }
                assertEquals(List.copyOf(new java.util.TreeSet<>(all.keySet())), List.copyOf(new java.util.TreeSet<>(sf.names())));
            }
        }
    }
}
