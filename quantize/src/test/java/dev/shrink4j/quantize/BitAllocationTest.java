package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The mixed-precision knapsack against brute force, and the demo's allocation within its budget. */
class BitAllocationTest {
    /** Budgets below {@link BitAllocation#UNITS} bytes are solved exactly: equal to brute force up to summation order. */
    private static final double SUM_ORDER_TOLERANCE = 1e-12;

    private static BitAllocation.Candidates module(String name, Random rnd) {
        int[] bits = {2, 3, 4, 8};
        long n = 64 + rnd.nextInt(512);
        long[] bytes = new long[4];
        double[] error = new double[4];
        double scale = Math.exp(rnd.nextGaussian() * 2); // modules differ by orders of magnitude in sensitivity
        for (int i = 0; i < 4; i++) {
            bytes[i] = n * bits[i] / 8 + n / 32;
            error[i] = scale * Math.pow(4, -bits[i]) * (1 + 0.2 * rnd.nextDouble()); // about ÷4 per bit, as RTN's MSE
        }
        return new BitAllocation.Candidates(name, bits, bytes, error);
    }

    @Test
    void staysWithinTheBudgetAndMatchesBruteForce() {
        Random rnd = new Random(7);
        for (int trial = 0; trial < 40; trial++) {
            List<BitAllocation.Candidates> ms = new ArrayList<>();
            for (int m = 0; m < 6; m++) ms.add(module("m" + m, rnd));
            long min = ms.stream().mapToLong(c -> c.bytes()[0]).sum(), max = ms.stream().mapToLong(c -> c.bytes()[3]).sum();
            long budget = min + (long) ((max - min) * rnd.nextDouble() * 0.6);
            int[] bits = BitAllocation.allocate(ms, budget);
            long spent = 0;
            double err = 0;
            for (int m = 0; m < ms.size(); m++) {
                int i = List.of(2, 3, 4, 8).indexOf(bits[m]);
                spent += ms.get(m).bytes()[i];
                err += ms.get(m).error()[i];
            }
            assertTrue(spent <= budget, "over budget: " + spent + " > " + budget);
            double best = bruteForce(ms, budget, 0, 0, 0);
            assertEquals(best, err, best * SUM_ORDER_TOLERANCE, "trial " + trial);
        }
    }

    private static double bruteForce(List<BitAllocation.Candidates> ms, long budget, int m, long spent, double err) {
        if (spent > budget) return Double.POSITIVE_INFINITY;
        if (m == ms.size()) return err;
        double best = Double.POSITIVE_INFINITY;
        for (int i = 0; i < 4; i++) best = Math.min(best, bruteForce(ms, budget, m + 1, spent + ms.get(m).bytes()[i], err + ms.get(m).error()[i]));
        return best;
    }

    @Test
    void aCandidateOffTheConvexHullIsChosenWhenItFitsBest() {
        // (bytes, error): (10, 100), (20, 90), (30, 10): 20 B lies above the hull but is the best within 25 B.
        BitAllocation.Candidates c = new BitAllocation.Candidates("m", new int[] {2, 3, 4}, new long[] {10, 20, 30}, new double[] {100, 90, 10});
        assertEquals(3, BitAllocation.allocate(List.of(c), 25)[0]);
        assertEquals(4, BitAllocation.allocate(List.of(c), 30)[0]);
        assertEquals(2, BitAllocation.allocate(List.of(c), 19)[0]);
        assertThrows(IllegalArgumentException.class, () -> BitAllocation.allocate(List.of(c), 9));
    }

    @Test
    void theDemoGetsMixedBitsWithinTheTarget() {
        try (Arena arena = Arena.ofConfined()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            Calibration calib = Calibration.random(model.config(), 2, 32, 1);
            MixedPrecision.Result r = MixedPrecision.choose(model, calib, QuantizeOptions.defaults(QuantMethod.GPTQ, 4).withGroupSize(64), 3.5,
                    new Quantizer.Listener() {});
            assertTrue(r.bitsPerWeight() <= 3.5, "chosen " + r.bitsPerWeight());
            assertTrue(r.bitsPerWeight() > 3.3, "the budget is used: " + r.bitsPerWeight());
            assertTrue(MixedPrecision.histogram(r).values().stream().filter(n -> n > 0).count() >= 2, "mixed: " + MixedPrecision.histogram(r));
            for (MixedPrecision.ModuleChoice m : r.modules()) {
                for (int i = 1; i < 4; i++) assertTrue(m.error()[i] <= m.error()[i - 1], m.module() + ": more bits, less error");
            }
            assertThrows(IllegalArgumentException.class, () -> MixedPrecision.choose(model, calib,
                    QuantizeOptions.defaults(QuantMethod.GPTQ, 4).withGroupSize(64), 1.5, new Quantizer.Listener() {}));
        }
    }
}
