package dev.shrink4j.bench.quantize;

/**
 * Deterministic layer data that {@code bench/peers/quantize.py} reproduces bit for bit: integer
 * formulas, no RNG. H = D·K·D with K_ij = 0.9^|i−j| (Kac–Murdock–Szegő, positive definite: correlated
 * neighbouring channels) and D = diag(s), s_i = 10 on every 97th channel (outliers), else 1.
 */
final class QuantizeLayerData {
    private QuantizeLayerData() {}

    /** (n, n) weights in [−0.02, 0.02). */
    static float[] weights(int n) {
        float[] w = new float[n * n];
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < n; i++) {
                long v = ((long) j * 7919 + (long) i * 104729 + (long) i * j % 7) % 1000;
                w[j * n + i] = (float) ((v / 1000.0 - 0.5) * 0.04);
            }
        }
        return w;
    }

    /** (n, n) symmetric positive definite H. */
    static double[] hessian(int n) {
        double[] s = new double[n];
        for (int i = 0; i < n; i++) s[i] = i % 97 == 0 ? 10 : 1;
        double[] pow = new double[n];
        pow[0] = 1;
        for (int k = 1; k < n; k++) pow[k] = pow[k - 1] * 0.9;
        double[] h = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) h[i * n + j] = s[i] * s[j] * pow[Math.abs(i - j)];
        }
        return h;
    }
}
