package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.CompressedLinear;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.DenseAndSparse;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ReQuant on the demo model (docs/methods/pqi-requant.md §3–§6) over 3-bit RTN with larger ratios
 * than the defaults (so every step has work): sparse positions are exact, none is taken twice, the
 * allocation stays within budget, the format's kernels compute x·(D + S)ᵀ, and the bits count S.
 */
class ReQuantTest {
    @TempDir Path scratch;
    /** D + S = w at a sparse position up to the F16 rounding of the residual S = w − D (2⁻¹¹ relative). */
    private static final double F16_REL = 1.0 / 2048;
    /** Kernel output against the dequantized reference, relative to the row's Σ|x·w|. */
    private static final double KERNEL_TOL = 1e-5;

    @Test
    void detachedAndOutlierWeightsAreExactAndNeverTakenTwice() throws Exception {
        Path in = TestData.demoModel();
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(in, arena), original = LlamaModel.load(in, arena);
            Calibration calib = Calibration.selfGenerated(original, Tokenizer.load(in, original.config()), 2, 32, 0);
            ReQuantOptions o = ReQuantOptions.defaults(QuantizeOptions.defaults(QuantMethod.RTN, 3).withGroupSize(32))
                    .withRatios(0.01, 0.004).withPqiPoints(2).withScratchDir(scratch); // Fisher and PQI buffers mapped there
            ReQuant.Result r = new ReQuant(o, arena).run(model, original, calib, new Quantizer.Listener() {});
            try (var left = Files.list(scratch)) {
                assertEquals(0, left.count(), "the mapped scratch files are deleted");
            }
            long total = r.quantized().parameters();
            assertEquals(2, r.detached().size(), "β = r_s/2: two steps");
            assertEquals(Math.round(0.004 * total), r.significant());
            long budget = Math.round(0.01 * total), allocated = 0, nnz = 0;
            for (Map.Entry<String, Double> e : r.outlierRatios().entrySet()) {
                CompressedWeight cw = r.quantized().weights().get(e.getKey());
                allocated += OutlierAllocation.count(e.getValue(), (long) cw.dOut() * cw.dIn());
            }
            assertTrue(allocated <= budget, allocated + " outliers for a budget of " + budget);
            assertEquals(allocated, r.outliers());
            Random rnd = new Random(3);
            for (int l = 0; l < original.numLayers(); l++) {
                for (Proj p : Proj.values()) {
                    CompressedWeight cw = r.quantized().weights().get(p.module(l));
                    int dOut = cw.dOut(), dIn = cw.dIn();
                    float[] w = original.layer(l).linear(p).weight(arena).toFloatArray();
                    float[] d = new float[dIn], full = new float[dIn];
                    // a linear that got no outliers and no detached weight stays in the base format
                    DenseAndSparse ds = cw instanceof DenseAndSparse x ? x : null;
                    if (ds != null) nnz += ds.sparse().nnz();
                    for (int j = 0; ds != null && j < dOut; j++) {
                        ds.base().dequantizeRow(j, d, 0);
                        cw.dequantizeRow(j, full, 0);
                        for (int q = ds.sparse().rowStart(j); q < ds.sparse().rowStart(j + 1); q++) {
                            int i = ds.sparse().column(q);
                            double residual = w[j * dIn + i] - d[i];
                            assertEquals(w[j * dIn + i], full[i], F16_REL * Math.abs(residual) + 1e-7, p.module(l) + " (" + j + ", " + i + ")");
                        }
                    }
                    // the model runs D + S through the format's kernels
                    Linear lin = model.layer(l).linear(p);
                    assertInstanceOf(CompressedLinear.class, lin);
                    int n = 3;
                    float[] x = new float[n * dIn], y = new float[n * dOut];
                    for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                    lin.forward(x, n, y);
                    for (int t = 0; t < n; t++) {
                        for (int j = 0; j < dOut; j++) {
                            cw.dequantizeRow(j, full, 0);
                            double ref = 0, mag = 0;
                            for (int i = 0; i < dIn; i++) {
                                ref += (double) x[t * dIn + i] * full[i];
                                mag += Math.abs((double) x[t * dIn + i] * full[i]);
                            }
                            assertEquals(ref, y[t * dOut + j], KERNEL_TOL * mag + 1e-6);
                        }
                    }
                }
            }
            assertEquals(r.outliers() + r.significant(), nnz, "every sparse position was taken once");
            long baseBytes = 0, sparseBytes = 0;
            for (CompressedWeight cw : r.quantized().weights().values()) {
                baseBytes += OutlierSplit.dense(cw).storageBytes();
                if (cw instanceof DenseAndSparse ds) sparseBytes += ds.sparse().storageBytes();
            }
            assertEquals(baseBytes + sparseBytes, r.quantized().storageBytes(), "bits per weight count the sparse part (docs/methods/pqi-requant.md §6)");
            assertTrue(sparseBytes >= 6L * nnz, "F16 value + int32 column per non-zero");
        }
    }

    @Test
    void theMappedFisherIsTheHeapOneAndRankedOutliersArePrefixes() {
        Path in = TestData.demoModel();
        try (Arena arena = Arena.ofShared()) {
            LlamaModel m = LlamaModel.load(in, arena);
            Random tokens = new Random(1);
            int[][] seqs = new int[2][16];
            for (int[] s : seqs) for (int t = 0; t < s.length; t++) s[t] = tokens.nextInt(m.config().vocabSize());
            Map<String, float[]> heap = GradientStatistics.gather(m, seqs, QuantizeOptions.defaults(QuantMethod.SQUEEZELLM, 3), new Quantizer.Listener() {}).fisher();
            try (WeightScratch mapped = ScratchFisher.gather(m, seqs, scratch, new Quantizer.Listener() {})) {
                int n = 0;
                for (String name : mapped.names()) {
                    assertArrayEquals(heap.get(name), mapped.read(name), name);
                    n++;
                }
                assertEquals(heap.size(), n);
            }
        }
        Random r = new Random(5);
        for (int trial = 0; trial < 50; trial++) {
            int dOut = 1 + r.nextInt(8), dIn = 1 + r.nextInt(16);
            float[] w = new float[dOut * dIn];
            for (int i = 0; i < w.length; i++) w[i] = r.nextInt(5) - 2; // small integers: many ties
            int[] ranked = OutlierSplit.rankedFromRowMean(w, dOut, dIn, w.length);
            for (int k = 0; k <= w.length; k++) {
                int[] prefix = java.util.Arrays.copyOf(ranked, k);
                java.util.Arrays.sort(prefix);
                assertArrayEquals(OutlierSplit.furthestFromRowMean(w, dOut, dIn, k), prefix, "trial " + trial + ", k " + k);
            }
        }
    }

    @Test
    void ratiosOutsideTheRangeAreRefused() {
        QuantizeOptions base = QuantizeOptions.defaults(QuantMethod.SQUEEZELLM, 3);
        for (double bad : new double[] {-0.01, 0.5, 0.7, Double.NaN}) {
            assertThrows(ShrinkException.class, () -> ReQuantOptions.defaults(base).withRatios(bad, 0.0005), "r_o " + bad);
            assertThrows(ShrinkException.class, () -> ReQuantOptions.defaults(base).withRatios(0.0045, bad), "r_s " + bad);
        }
        assertEquals(2, ReQuantOptions.defaults(base).detachSteps());
        assertEquals(0, ReQuantOptions.defaults(base).withRatios(0.0045, 0).detachSteps());
        try (Arena arena = Arena.ofShared()) {
            LlamaModel m = LlamaModel.load(TestData.demoModel(), arena);
            assertThrows(IllegalArgumentException.class, () -> new ReQuant(ReQuantOptions.defaults(base), arena).run(m, m, null, new Quantizer.Listener() {}));
        }
    }
}
