package dev.shrink4j.prune;

import dev.shrink4j.model.CheckpointConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.io.CheckpointWriter;
import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerwisePrunerTest {
    private static final int T = 32;
    /** CSR/N:M matmuls sum only the kept products, in another order than the dense GEMM. */
    private static final double SUMMATION_ORDER = 1e-5;

    /** Prunes the demo model, writes it in {@code format}, returns (in-memory NLL, written dir). */
    private static double pruneAndWrite(LayerwisePruner.Settings s, String format, Path out, int[] stream) {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            int[] cal = s.method().needsCalibration() ? DemoText.tokens(model, 2 * T) : null;
            Set<String> written = new HashSet<>();
            Map<String, Object> descriptors = new LinkedHashMap<>();
            try (CheckpointWriter w = CheckpointWriter.create(out, CheckpointWriter.Options.defaults())) {
                LayerwisePruner.run(model, cal == null ? null : Calibration.ofWindows(cal, T, "test"), s, (l, p, weights, dOut, dIn) -> {
                    long zeros = Masks.zeros(weights);
                    if (s.pattern() != null) {
                        assertEquals((long) weights.length * (s.pattern().m() - s.pattern().n()) / s.pattern().m(), zeros, p.weightName(l));
                    } else if (s.method() != LayerwisePruner.Method.SPARSEGPT) {
                        assertTrue(zeros >= SparsityTarget.count(s.sparsity(), weights.length), p.weightName(l));
                    }
                    try (Arena a = Arena.ofConfined()) {
                        CompressedWeight cw = switch (format) {
                            case "csr" -> SparseStorage.csr(a, weights, dOut, dIn, DType.F32);
                            case "nm" -> SparseStorage.nm(a, weights, dOut, dIn, s.pattern(), DType.F32);
                            default -> null;
                        };
                        if (cw == null) {
                            w.add(p.weightName(l), Tensor.ofFloats(a, Shape.of(dOut, dIn), weights));
                        } else {
                            cw.toTensors(p.module(l)).forEach(w::add);
                            descriptors.put(p.module(l), cw.descriptor());
                        }
                    }
                    written.add(p.weightName(l));
                }, null, arena);
                PrunedCheckpoint.copyRest(model, w, written);
                Map<String, Object> config = CheckpointConfig.read(TestData.demoModel());
                if (!descriptors.isEmpty()) {
                    PrunedCheckpoint.shrink4jBlock(config).put("tensors", descriptors);
                }
                w.writeFile("config.json", Json.write(config, 2));
                PrunedCheckpoint.copySideFiles(TestData.demoModel(), w);
                w.commit();
            }
            return Perplexity.evaluate(model, stream, T, 0, null).nll();
        }
    }

    private static double evaluate(Path dir, int[] stream) {
        try (Arena arena = Arena.ofShared()) {
            return Perplexity.evaluate(LlamaModel.load(dir, arena), stream, T, 0, null).nll();
        }
    }

    @Test
    void prunedThenEvaluatedEqualsTheDenseModelWithTheSameZeros(@TempDir Path tmp) {
        int[] stream;
        double dense;
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            stream = DemoText.tokens(model, 3 * (T - 1));
            dense = Perplexity.evaluate(model, stream, T, 0, null).nll();
        }
        record Case(LayerwisePruner.Method method, NmPattern pattern, String format) {}
        for (Case c : new Case[] {
                new Case(LayerwisePruner.Method.SPARSEGPT, null, "dense"),
                new Case(LayerwisePruner.Method.SPARSEGPT, NmPattern.TWO_FOUR, "nm"),
                new Case(LayerwisePruner.Method.WANDA, null, "csr"),
                new Case(LayerwisePruner.Method.MAGNITUDE, NmPattern.TWO_FOUR, "nm")}) {
            String tag = c.method().id() + "-" + c.pattern() + "-" + c.format();
            Path dir = tmp.resolve(tag.replace(':', '_'));
            double inMemory = pruneAndWrite(LayerwisePruner.Settings.of(c.method(), 0.5, c.pattern()), c.format(), dir, stream);
            double tolerance = c.format().equals("dense") ? 0.0 : SUMMATION_ORDER;
            assertEquals(inMemory, evaluate(dir, stream), tolerance, tag);
            assertTrue(inMemory > dense, tag + ": pruning half the weights should cost something");
        }
    }

    /** CRC-32 of every pruned matrix's float bits and position, in sink order, for one case. */
    static long prunedCrc(LayerwisePruner.Settings s, int samples) {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            int[] cal = s.method().needsCalibration() ? DemoText.tokens(model, samples * T) : null;
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            LayerwisePruner.run(model, cal == null ? null : Calibration.ofWindows(cal, T, "test"), s, (l, p, w, dOut, dIn) -> {
                crc.update((l + "/" + p + "/" + dOut + "x" + dIn).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                for (float v : w) {
                    crc.update(buf.clear().putFloat(v).array());
                }
            }, null);
            return crc.getValue();
        }
    }

    /**
     * CRCs of every pruned matrix, recorded with the pruner's own block loop before it ran through
     * BlockPipeline (commit aa406ba). 130 windows of 32 tokens make two passes (128 + 2 sequences).
     */
    @Test
    void prunedWeightsAreBitForBitThoseOfTheFormerBlockLoop() {
        assertEquals(0xb192f49dL, prunedCrc(LayerwisePruner.Settings.of(LayerwisePruner.Method.MAGNITUDE, 0.5, null), 2));
        assertEquals(0x384dd1b8L, prunedCrc(LayerwisePruner.Settings.of(LayerwisePruner.Method.MAGNITUDE, 0.5, NmPattern.TWO_FOUR), 2));
        assertEquals(0xf694b683L, prunedCrc(new LayerwisePruner.Settings(LayerwisePruner.Method.MAGNITUDE, 0.3, null, 128, 0.01, true), 2));
        assertEquals(0xec6d0868L, prunedCrc(LayerwisePruner.Settings.of(LayerwisePruner.Method.WANDA, 0.5, null), 130));
        assertEquals(0x7c3a3672L, prunedCrc(LayerwisePruner.Settings.of(LayerwisePruner.Method.WANDA, 0.5, NmPattern.TWO_FOUR), 2));
        assertEquals(0xdc454952L, prunedCrc(LayerwisePruner.Settings.of(LayerwisePruner.Method.SPARSEGPT, 0.5, null), 130));
        assertEquals(0x7210b373L, prunedCrc(LayerwisePruner.Settings.of(LayerwisePruner.Method.SPARSEGPT, 0.5, NmPattern.TWO_FOUR), 2));
    }

    @Test
    void globalMagnitudePrunesExactlyTheTargetOverAllBlockLinears() {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            long[] zeros = {0};
            long[] total = {0};
            double[] perMatrixMin = {1};
            double[] perMatrixMax = {0};
            LayerwisePruner.run(model, null, new LayerwisePruner.Settings(LayerwisePruner.Method.MAGNITUDE, 0.3, null, 128, 0.01, true),
                    (l, p, w, dOut, dIn) -> {
                        long z = Masks.zeros(w);
                        zeros[0] += z;
                        total[0] += w.length;
                        perMatrixMin[0] = Math.min(perMatrixMin[0], (double) z / w.length);
                        perMatrixMax[0] = Math.max(perMatrixMax[0], (double) z / w.length);
                    }, null);
            assertEquals((long) Math.floor(0.3 * total[0]), zeros[0]);
            assertTrue(perMatrixMax[0] - perMatrixMin[0] > 0.05, "a global threshold spreads unevenly over matrices");
        }
    }
}
