package dev.shrink4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class AdamWTest {
    private static final float EXACT = 1e-7f;

    @Test
    void firstAndSecondStepsMatchHandComputedValues() {
        AdamW adam = new AdamW(0.9, 0.999, 1e-8, 0.01);
        float[] theta = {1.0f, -2.0f};
        float[] m = new float[2];
        float[] v = new float[2];
        // Step 1, lr 0.1, g = (0.5, -1): m = 0.1g, v = 0.001g², m̂ = g, v̂ = g², update = g/(|g| + ε) + λθ
        // θ₀ = 1 − 0.1·(0.5/(0.5 + 1e-8) + 0.01·1) = 1 − 0.1·(0.99999998 + 0.01) = 0.899000002
        // θ₁ = −2 − 0.1·(−1/(1 + 1e-8) + 0.01·(−2)) = −2 − 0.1·(−1.02000000) = −1.898
        adam.step(theta, new float[] {0.5f, -1f}, m, v, 0.1, 1, true);
        assertArrayEquals(new float[] {0.899f, -1.898f}, theta, 1e-6f);
        assertArrayEquals(new float[] {0.05f, -0.1f}, m, EXACT);
        assertArrayEquals(new float[] {0.00025f, 0.001f}, v, EXACT);
        // Step 2, lr 0.1, g = (0.5, 0): m = (0.095, −0.09), v = (0.00049975, 0.000999)
        // m̂ = m/0.19, v̂ = v/0.001999: θ₀ −= 0.1·(0.5/(0.5+ε) + 0.01·0.899) → 0.899 − 0.1·1.00899 = 0.798101
        // θ₁: m̂ = −0.473684, √v̂ = 0.706929 → −0.670059 − 0.01898; θ₁ = −1.898 − 0.1·(−0.670059 − 0.01898) = −1.8290961
        adam.step(theta, new float[] {0.5f, 0f}, m, v, 0.1, 2, true);
        double mHat = -0.09 / 0.19;
        double vHat = 0.000999 / (1 - 0.999 * 0.999);
        double expected1 = -1.898 - 0.1 * (mHat / (Math.sqrt(vHat) + 1e-8) - 0.01 * 1.898);
        assertEquals(0.798101, theta[0], 1e-6);
        assertEquals(expected1, theta[1], 1e-6);
        assertEquals(-1.8290961, theta[1], 1e-6);
    }

    @Test
    void normGainsAreNotDecayed() {
        AdamW adam = new AdamW(0.9, 0.95, 1e-8, 0.5);
        float[] theta = {3f};
        adam.step(theta, new float[] {0f}, new float[1], new float[1], 0.1, 1, false);
        assertEquals(3f, theta[0], 0f); // zero gradient, no decay: unchanged
        adam.step(theta, new float[] {0f}, new float[1], new float[1], 0.1, 1, true);
        assertEquals(3f - 0.1f * 0.5f * 3f, theta[0], 1e-6f); // decoupled: lr·λ·θ
    }

    @Test
    void scheduleWarmsUpLinearlyThenFollowsTheCosine() {
        LrSchedule s = new LrSchedule(1e-3, 10, 110, 0.1);
        assertEquals(1e-4, s.at(1), 1e-12);
        assertEquals(1e-3, s.at(10), 1e-12);
        assertEquals(1e-4 + 0.9e-3 * 0.5, s.at(60), 1e-12); // halfway through the decay: cos(π/2) = 0
        assertEquals(1e-4, s.at(110), 1e-12);
        assertEquals(1e-4, s.at(500), 1e-12);
    }
}
