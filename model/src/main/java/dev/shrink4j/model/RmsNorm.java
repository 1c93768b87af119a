package dev.shrink4j.model;

/** RMSNorm y = w ⊙ x / √(mean(x²) + ε), row by row, with its backward pass. */
final class RmsNorm {
    private RmsNorm() {}

    /**
     * @param x   (n, d)
     * @param w   (d)
     * @param y   (n, d) output
     * @param inv (n) 1/rms per row, saved for the backward pass (may be null)
     */
    static void forward(float[] x, int n, int d, float[] w, double eps, float[] y, float[] inv) {
        Gemm.parallelFor(chunks(n), c -> {
            for (int r = lo(n, c); r < lo(n, c + 1); r++) {
                int o = r * d;
                float ss = 0;
                for (int i = 0; i < d; i++) ss += x[o + i] * x[o + i];
                float s = (float) (1.0 / Math.sqrt(ss / d + eps));
                if (inv != null) inv[r] = s;
                for (int i = 0; i < d; i++) y[o + i] = w[i] * (x[o + i] * s);
            }
        });
    }

    /**
     * dx(n, d) += ∂ℓ/∂x given dy; dw (d) += ∂ℓ/∂w when non-null.
     * dx = s·(w⊙dy) − x·s³·mean(w⊙dy⊙x).
     */
    static void backward(float[] x, int n, int d, float[] w, float[] inv, float[] dy, float[] dx, float[] dw) {
        Gemm.parallelFor(chunks(n), c -> {
            for (int r = lo(n, c); r < lo(n, c + 1); r++) {
                int o = r * d;
                float s = inv[r];
                float dot = 0;
                for (int i = 0; i < d; i++) dot += w[i] * dy[o + i] * x[o + i];
                float k = s * s * s * dot / d;
                for (int i = 0; i < d; i++) dx[o + i] += s * w[i] * dy[o + i] - x[o + i] * k;
            }
        });
        if (dw != null) {
            for (int r = 0; r < n; r++) {
                int o = r * d;
                float s = inv[r];
                for (int i = 0; i < d; i++) dw[i] += dy[o + i] * x[o + i] * s;
            }
        }
    }

    static int chunks(int n) {
        return Math.max(1, Math.min(n / 16, 64));
    }

    static int lo(int n, int c) {
        return (int) ((long) n * c / chunks(n));
    }
}
