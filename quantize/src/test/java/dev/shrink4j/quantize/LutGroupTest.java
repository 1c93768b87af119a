package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.formats.LutQuantized;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** --lut-group: one 2^b codebook per (row, group of G input columns). */
class LutGroupTest {
    @Test
    void squeezeLlmClustersEachGroupOnItsOwn() {
        Random rnd = new Random(3);
        int dOut = 6, dIn = 40, gs = 16, bits = 3, m = 8; // groups 16, 16, 8 (ragged tail)
        float[] w = Layers.weights(rnd, dOut, dIn);
        float[] f = new float[dOut * dIn];
        for (int i = 0; i < f.length; i++) f[i] = rnd.nextFloat();
        LutCodes q = SqueezeLlm.quantize(w, f, dOut, dIn, bits, gs);
        assertEquals(3, q.nGroups());
        for (int g = 0; g < 3; g++) {
            int i0 = g * gs, n = Math.min(gs, dIn - i0);
            float[] ws = new float[dOut * n], fs = new float[dOut * n];
            for (int j = 0; j < dOut; j++) {
                System.arraycopy(w, j * dIn + i0, ws, j * n, n);
                System.arraycopy(f, j * dIn + i0, fs, j * n, n);
            }
            LutCodes s = SqueezeLlm.quantize(ws, fs, dOut, n, bits); // the segment as its own matrix
            for (int j = 0; j < dOut; j++) {
                assertArrayEquals(Arrays.copyOfRange(s.lut(), j * m, (j + 1) * m),
                        Arrays.copyOfRange(q.lut(), (j * 3 + g) * m, (j * 3 + g + 1) * m), "row " + j + " group " + g);
                for (int i = 0; i < n; i++) assertEquals(s.codes()[j * n + i], q.codes()[j * dIn + i0 + i]);
            }
        }
        // Packs into the format's per-group codebooks and dequantizes to the same matrix.
        try (Arena arena = Arena.ofConfined()) {
            LutQuantized p = LayerQuantizer.pack(arena, q);
            assertEquals(gs, p.groupSize());
            float[] row = new float[dIn];
            float[] dq = q.dequantize();
            for (int j = 0; j < dOut; j++) {
                p.dequantizeRow(j, row, 0);
                assertArrayEquals(Arrays.copyOfRange(dq, j * dIn, (j + 1) * dIn), row);
            }
            assertEquals(bits + 16.0 * 3 * m / dIn, p.bitsPerWeight(), 1e-12, "b + 16·n_groups·2^b/d_in, from the stored bytes");
        }
    }

    @Test
    void groupedLnqIsMonotoneAndNeverWorseThanThePerRowResultItStartsFrom() {
        for (int seed = 0; seed < 6; seed++) {
            Random rnd = new Random(100 + seed);
            int dOut = 12, dIn = 72, bits = 2 + seed % 3, gs = 24;
            float[] w = Layers.weights(rnd, dOut, dIn);
            double[] h = Layers.realisticHessian(rnd, 256, dIn);
            LnqOptions o = new LnqOptions(bits, 3, 3, 32, 1e-7);
            LutCodes perRow = Lnq.quantize(w, h, dOut, dIn, SqueezeLlm.quantize(w, null, dOut, dIn, bits), o).quantized();
            // The per-row result with its codebook copied to every group is a feasible grouped start;
            // grouped LNQ only accepts improvements, so it can only do better (up to fp16 LUT rounding).
            int m = 1 << bits, ng = 3;
            float[] lut = new float[dOut * ng * m];
            for (int j = 0; j < dOut; j++) {
                for (int g = 0; g < ng; g++) System.arraycopy(perRow.lut(), j * m, lut, (j * ng + g) * m, m);
            }
            LutCodes start = new LutCodes(dOut, dIn, bits, gs, perRow.codes(), lut);
            assertArrayEquals(perRow.dequantize(), start.dequantize());
            Lnq.Result r = Lnq.quantize(w, h, dOut, dIn, start, o);
            double before = LayerError.of(w, perRow.dequantize(), h, dOut, dIn);
            double after = LayerError.of(w, r.quantized().dequantize(), h, dOut, dIn);
            assertEquals(gs, r.quantized().groupSize());
            assertTrue(after < 0.999 * before, "seed " + seed + ": " + after + " vs per-row " + before);
            double[] t = r.trace();
            for (int k = 1; k < t.length; k++) {
                assertTrue(t[k] <= t[k - 1] * (1 + 1e-6), "seed " + seed + " step " + k + ": " + t[k - 1] + " → " + t[k]);
            }
        }
    }

    @Test
    void seededLayerObjectiveThroughTheQuantizerIsNoWorseWithGroups() {
        Random rnd = new Random(42);
        int dOut = 16, dIn = 64, bits = 3;
        float[] w = Layers.weights(rnd, dOut, dIn);
        double[][] hs = {Layers.realisticHessian(rnd, 256, dIn)};
        try (Arena arena = Arena.ofConfined()) {
            for (QuantMethod method : new QuantMethod[] {QuantMethod.SQUEEZELLM, QuantMethod.LNQ}) {
                QuantizeOptions row = QuantizeOptions.defaults(method, bits);
                LayerQuantizer.Outcome a = LayerQuantizer.quantize(row, arena, w, dOut, dIn, hs, null);
                LayerQuantizer.Outcome b = LayerQuantizer.quantize(row.withLutGroup(16), arena, w, dOut, dIn, hs, null);
                assertTrue(b.objectiveAfter() <= a.objectiveAfter(), method + ": " + b.objectiveAfter() + " vs " + a.objectiveAfter());
                assertEquals(16, ((LutQuantized) b.weight()).groupSize());
                assertEquals(bits + 16.0 * 4 * 8 / dIn, b.weight().bitsPerWeight(), 1e-12);
            }
        }
    }

    @Test
    void tooSmallGroupsAreRefused() {
        ShrinkException e = assertThrows(ShrinkException.class, () -> QuantizeOptions.defaults(QuantMethod.LNQ, 4).withLutGroup(8));
        assertTrue(e.getMessage().contains("--lut-group 8"), e.getMessage());
        assertEquals(16, QuantizeOptions.defaults(QuantMethod.LNQ, 4).withLutGroup(16).lutGroupFor(64));
        assertEquals(64, QuantizeOptions.defaults(QuantMethod.LNQ, 4).lutGroupFor(64));
    }
}
