package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Differential checks every format goes through: kernels vs dequantize-then-dense, and the tensor round trip. */
final class FormatChecks {
    /** Float accumulation vs a double reference, relative to Σ|ŵ_i·x_i| (a few ulps times √d_in). */
    static final double KERNEL_REL_TOL = 1e-5;
    /** Row counts for matmul: 1, an odd count below the 4-row register block, and one above it. */
    static final int[] MATMUL_ROWS = {1, 3, 9};

    private FormatChecks() {}

    static List<FormatKernels> kernels() {
        List<FormatKernels> ks = new ArrayList<>();
        ks.add(FormatKernels.scalar());
        FormatKernels.panama().ifPresent(ks::add);
        return ks;
    }

    static float[] gaussian(Random rnd, int n, double sigma) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextGaussian() * sigma);
        return v;
    }

    static float[] dense(CompressedWeight w) {
        float[] d = new float[w.dOut() * w.dIn()];
        for (int j = 0; j < w.dOut(); j++) w.dequantizeRow(j, d, j * w.dIn());
        return d;
    }

    /** matvec and matmul with every kernel match Ŵ·x in double within {@link #KERNEL_REL_TOL}. */
    static void checkKernels(CompressedWeight w, long seed) {
        Random rnd = new Random(seed);
        int n = w.dIn(), dOut = w.dOut();
        float[] wd = dense(w);
        for (FormatKernels k : kernels()) {
            for (int m : MATMUL_ROWS) {
                float[] x = gaussian(rnd, m * n, 1.0);
                float[] y = new float[m * dOut];
                if (m == 1) {
                    w.matvec(x, y, k);
                } else {
                    w.matmul(x, m, y, k);
                }
                for (int r = 0; r < m; r++) {
                    for (int j = 0; j < dOut; j++) {
                        double ref = 0, mag = 0;
                        for (int i = 0; i < n; i++) {
                            ref += (double) wd[j * n + i] * x[r * n + i];
                            mag += Math.abs((double) wd[j * n + i] * x[r * n + i]);
                        }
                        double err = Math.abs(y[r * dOut + j] - ref);
                        if (!(err <= KERNEL_REL_TOL * mag + 1e-30)) {
                            throw new AssertionError(w.format() + " (" + dOut + ", " + n + ") " + k.name()
                                    + (m == 1 ? " matvec" : " matmul m=" + m) + " [" + r + ", " + j + "]: got " + y[r * dOut + j]
                                    + ", expected " + ref + " (|err| " + err + " > " + KERNEL_REL_TOL + " × " + mag + ")");
                        }
                    }
                }
            }
        }
    }

    /** toTensors → fromTensors rebuilds the same weight (same dequantized values, same sizes). */
    static CompressedWeight checkRoundTrip(CompressedWeight w, String module) {
        Map<String, Tensor> t = new HashMap<>(w.toTensors(module));
        for (String name : t.keySet()) {
            assertTrue(name.startsWith(module + "."), name);
        }
        long bytes = t.values().stream().mapToLong(Tensor::byteSize).sum();
        assertEquals(w.storageBytes(), bytes, "storageBytes is the sum of the stored tensors");
        CompressedWeight back = Formats.fromTensors(module, w.descriptor(), t);
        assertEquals(w.getClass(), back.getClass());
        assertEquals(w.descriptor(), back.descriptor());
        assertEquals(w.storageBytes(), back.storageBytes());
        assertEquals(java.util.Arrays.toString(dense(w)), java.util.Arrays.toString(dense(back)));
        return back;
    }

    static Arena arena() {
        return Arena.ofConfined();
    }
}
