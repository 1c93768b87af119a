package dev.shrink4j.tensors.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class UniformGridTest {
    /** A weight large enough to be split across threads gets the codes each row gets on its own. */
    @Test
    void rowsSplitAcrossThreadsGiveEachRowsOwnCodes() {
        int dOut = 1031, dIn = 300, gs = 32, ng = UniformQuantized.groups(dIn, gs); // 309,300 weights: split
        float[] w = new float[dOut * dIn];
        Random r = new Random(7);
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        for (boolean sym : new boolean[] {true, false}) {
            byte[] codes = new byte[w.length], zeros = new byte[dOut * ng];
            float[] scales = new float[dOut * ng];
            UniformGrid.rtn(w, dOut, dIn, 4, gs, sym, codes, scales, zeros);
            byte[] rowCodes = new byte[w.length], rowZeros = new byte[dOut * ng];
            float[] rowScales = new float[dOut * ng];
            for (int j = 0; j < dOut; j++) { // one row at a time: below the split threshold
                byte[] c = new byte[dIn], z = new byte[ng];
                float[] s = new float[ng];
                UniformGrid.rtn(java.util.Arrays.copyOfRange(w, j * dIn, (j + 1) * dIn), 1, dIn, 4, gs, sym, c, s, z);
                System.arraycopy(c, 0, rowCodes, j * dIn, dIn);
                System.arraycopy(s, 0, rowScales, j * ng, ng);
                System.arraycopy(z, 0, rowZeros, j * ng, ng);
            }
            assertArrayEquals(rowCodes, codes);
            assertArrayEquals(rowScales, scales);
            assertArrayEquals(rowZeros, zeros);
        }
    }
}
