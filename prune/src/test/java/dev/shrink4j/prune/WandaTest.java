package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class WandaTest {
    @Test
    void handComputedScoresPerRow() {
        // two tokens: channel norms ‖x_0‖ = 5 (3,4), ‖x_1‖ = 1 (0,1), ‖x_2‖ = 2 (0,2), ‖x_3‖ = 0.1
        Wanda wanda = new Wanda(4);
        wanda.observe(new float[] {3f, 0f, 0f, 0.1f, 4f, 1f, 2f, 0f}, 2);
        assertArrayEquals(new float[] {5f, 1f, 2f, 0.1f}, wanda.columnNorms(), 1e-6f);
        // row 0 scores: 0.5, 2, 2, 1 -> prune the 2 lowest: col 0 (0.5), col 3 (1.0)
        // row 1 scores: 5, 0.5, 4, 10 -> prune col 1, col 2
        float[] w = {0.1f, -2f, 1f, 10f, 1f, 0.5f, -2f, 100f};
        boolean[] mask = wanda.prune(w, 2, 4, 0.5, null);
        assertArrayEquals(new boolean[] {true, false, false, true, false, true, true, false}, mask);
        assertArrayEquals(new float[] {0f, -2f, 1f, 0f, 1f, 0f, 0f, 100f}, w);
    }

    @Test
    void everyRowLosesFloorOfPTimesColumns() {
        Random rnd = new Random(5);
        int rows = 7;
        int cols = 33;
        float[] x = new float[10 * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() * (1 + i % cols);
        }
        Wanda wanda = new Wanda(cols);
        wanda.observe(x, 10);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian();
        }
        boolean[] mask = wanda.prune(w, rows, cols, 0.4, null);
        for (int r = 0; r < rows; r++) {
            int n = 0;
            for (int c = 0; c < cols; c++) {
                n += mask[r * cols + c] ? 1 : 0;
            }
            assertEquals(13, n); // ⌊0.4·33⌋
        }
    }

    @Test
    void nmUsesTheActivationWeightedScore() {
        Wanda wanda = Wanda.ofSumSquares(new double[] {100, 1, 1, 1});
        // |w| alone would keep cols 1, 2; with ‖x_0‖ = 10 col 0 wins
        float[] w = {0.2f, 1f, 0.9f, 0.1f};
        wanda.prune(w, 1, 4, 0, NmPattern.TWO_FOUR);
        assertArrayEquals(new float[] {0.2f, 1f, 0f, 0f}, w);
    }
}
