package dev.shrink4j.quantize;

import dev.shrink4j.tensors.kernels.Kernels;

/**
 * H = (1/n) Σ_t x_t x_tᵀ (METHODS.md §1.3): SYRK on the upper triangle over token tiles accumulated in
 * fp32, tiles reduced in fp64. Lifecycle: {@link #observe} the inputs, then {@link #hessian}.
 */
public final class HessianAccumulator {
    /** Tokens per fp32 tile. */
    private static final int TILE = 512;
    private final int dIn;
    private final double[] h; // (d_in, d_in) upper triangle
    private final float[] tile; // (d_in, d_in)
    private long tokens;

    public HessianAccumulator(int dIn) {
        this.dIn = dIn;
        this.h = new double[dIn * dIn];
        this.tile = new float[dIn * dIn];
    }

    /** @param x (n, d_in) */
    public void observe(float[] x, int n) {
        Kernels k = Kernels.get();
        for (int t0 = 0; t0 < n; t0 += TILE) {
            int rows = Math.min(TILE, n - t0);
            java.util.Arrays.fill(tile, 0f);
            k.syrkUpper(rows, dIn, x, t0 * dIn, dIn, null, 0, tile, 0, dIn);
            for (int a = 0; a < dIn; a++) {
                for (int b = a; b < dIn; b++) h[a * dIn + b] += tile[a * dIn + b];
            }
        }
        tokens += n;
    }

    public long tokens() {
        return tokens;
    }

    /** H/n, full symmetric (d_in, d_in). */
    public double[] hessian() {
        double[] r = new double[dIn * dIn];
        double inv = tokens == 0 ? 0 : 1.0 / tokens;
        for (int a = 0; a < dIn; a++) {
            for (int b = a; b < dIn; b++) {
                double v = h[a * dIn + b] * inv;
                r[a * dIn + b] = v;
                r[b * dIn + a] = v;
            }
        }
        return r;
    }
}
