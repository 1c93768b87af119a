package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SpdBridgeTest {
    private static final double TOL = 1e-9;

    @Test
    void upperFactorOfInverseTimesHIsIdentity() {
        int n = 37;
        double[] h = Damping.damped(Layers.realisticHessian(new Random(3), 200, n), n, 0.01);
        double[] u = SpdBridge.upperCholeskyOfInverse(h, n);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) assertEquals(0, u[i * n + j]);
        }
        // (UᵀU)·H = I
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    double inv = 0;
                    for (int l = 0; l < n; l++) inv += u[l * n + i] * u[l * n + k];
                    s += inv * h[k * n + j];
                }
                assertEquals(i == j ? 1 : 0, s, TOL);
            }
        }
    }

    @Test
    void indefiniteMatrixIsReported() {
        assertNull(SpdBridge.upperCholeskyOfInverse(new double[] {1, 2, 2, 1}, 2));
    }
}
