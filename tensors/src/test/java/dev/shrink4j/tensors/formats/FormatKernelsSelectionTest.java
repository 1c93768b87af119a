package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link FormatKernels#use}: the run-time switch the CLI's --device makes, seen by every caller at once. */
class FormatKernelsSelectionTest {

    /** The scalar kernels, counting the uniform matvecs that reach them. */
    static final class Counting implements FormatKernels {
        final AtomicLong uniformMatvecs = new AtomicLong();
        final FormatKernels s = FormatKernels.scalar();

        @Override public String name() { return "counting"; }
        @Override public void denseMatvec(DenseWeight w, float[] x, float[] y) { s.denseMatvec(w, x, y); }
        @Override public void denseMatmul(DenseWeight w, float[] x, int m, float[] y) { s.denseMatmul(w, x, m, y); }
        @Override public void uniformMatvec(UniformQuantized w, float[] x, float[] y) {
            uniformMatvecs.incrementAndGet();
            s.uniformMatvec(w, x, y);
        }
        @Override public void uniformMatmul(UniformQuantized w, float[] x, int m, float[] y) { s.uniformMatmul(w, x, m, y); }
        @Override public void lutMatvec(LutQuantized w, float[] x, float[] y) { s.lutMatvec(w, x, y); }
        @Override public void lutMatmul(LutQuantized w, float[] x, int m, float[] y) { s.lutMatmul(w, x, m, y); }
        @Override public void csrMatvecAdd(CsrSparse c, float[] x, float[] y) { s.csrMatvecAdd(c, x, y); }
        @Override public void nmMatvec(NmSparse w, float[] x, float[] y) { s.nmMatvec(w, x, y); }
    }

    @Test
    void useReplacesTheChoiceForDefaultCallsAndHandsBackThePrevious() {
        FormatKernels chosen = FormatKernels.get();
        Counting counting = new Counting();
        try (Arena arena = Arena.ofConfined()) {
            UniformQuantized w = UniformQuantized.rtn(arena, gaussians(new Random(1), 33 * 64), 33, 64, 4, 32, false);
            float[] x = gaussians(new Random(2), 64), y = new float[33];
            assertNull(FormatKernels.use(counting), "no override before");
            assertSame(counting, FormatKernels.get());
            w.matvec(x, y);   // the default-kernels form reads FormatKernels.get() per call
            assertEquals(1, counting.uniformMatvecs.get());
            assertSame(counting, FormatKernels.use(FormatKernels.scalar()));
            w.matvec(x, y);
            assertEquals(1, counting.uniformMatvecs.get(), "the replaced kernels are no longer called");
        } finally {
            FormatKernels.use(null);
        }
        assertSame(chosen, FormatKernels.get(), "null restores the property's choice");
    }

    @Test
    void switchingWhileEightThreadsMultiplyLosesNoCallAndChangesNoResult() throws Exception {
        Counting counting = new Counting();
        try (Arena arena = Arena.ofShared(); ExecutorService pool = Executors.newFixedThreadPool(8)) {
            UniformQuantized w = UniformQuantized.rtn(arena, gaussians(new Random(3), 17 * 96), 17, 96, 3, 32, true);
            float[] x = gaussians(new Random(4), 96), expected = new float[17];
            FormatKernels.scalar().uniformMatvec(w, x, expected);
            List<Future<Integer>> calls = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                calls.add(pool.submit(() -> {
                    float[] y = new float[17];
                    for (int i = 0; i < 200; i++) {
                        w.matvec(x, y);
                        assertArrayEquals(expected, y);
                    }
                    return 200;
                }));
            }
            for (int i = 0; i < 200; i++) FormatKernels.use(i % 2 == 0 ? counting : FormatKernels.scalar());
            FormatKernels.use(counting);
            int done = 0;
            for (Future<Integer> f : calls) done += f.get();
            assertEquals(1600, done);
            long before = counting.uniformMatvecs.get();
            w.matvec(x, new float[17]);
            assertEquals(before + 1, counting.uniformMatvecs.get(), "after the last switch every call reaches it");
        } finally {
            FormatKernels.use(null);
        }
    }

    @Test
    void cpuIsTheVectorKernelsAndCudaNeedsTheNativeModule() {
        String forced = System.getProperty("shrink4j.kernels", "");
        assertEquals(forced.equals("scalar") ? "scalar" : "panama", FormatKernels.cpu().name());
        // the tensors module's tests run without the native module on the class path
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> FormatKernels.cuda(FormatKernels.cpu(), 0));
        assertTrue(e.getMessage().contains("native module"), e.getMessage());
    }

    static float[] gaussians(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }
}
