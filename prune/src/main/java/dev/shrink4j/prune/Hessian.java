package dev.shrink4j.prune;

/**
 * Layer-wise proxy Hessian H = (1/n) Σ_t x_t x_tᵀ (docs/methods/README.md §2, docs/methods/pipeline.md §3): token tiles are accumulated in fp32
 * (upper triangle only) and reduced into fp64. Lifecycle: {@link #observe} the group's inputs, then
 * {@link #matrix}.
 */
public final class Hessian {
    /** Tokens per fp32 tile before the fp64 reduction. */
    private static final int TILE = 64;

    private final int d;
    private double[] sum; // (d, d) upper triangle of Σ x xᵀ, allocated by the first observe
    private final double[] sumSquares; // (d) Σ_t x_ti², Wanda's statistic from the same pass
    private long tokens;

    public Hessian(int d) {
        this.d = d;
        this.sumSquares = new double[d];
    }

    public int size() {
        return d;
    }

    /** @param x (n, d) row-major */
    public void observe(float[] x, int n) {
        if (sum == null) {
            sum = new double[d * d];
        }
        float[] tile = new float[d * d];
        for (int start = 0; start < n; start += TILE) {
            final int t0 = start;
            final int t1 = Math.min(n, t0 + TILE);
            java.util.Arrays.fill(tile, 0f);
            java.util.stream.IntStream.range(0, d).parallel().forEach(i -> {
                for (int t = t0; t < t1; t++) {
                    float xi = x[t * d + i];
                    if (xi == 0f) {
                        continue;
                    }
                    int row = t * d;
                    int base = i * d;
                    for (int j = i; j < d; j++) {
                        tile[base + j] += xi * x[row + j];
                    }
                }
            });
            for (int i = 0; i < d; i++) {
                for (int j = i; j < d; j++) {
                    sum[i * d + j] += tile[i * d + j];
                }
            }
        }
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < d; i++) {
                double v = x[t * d + i];
                sumSquares[i] += v * v;
            }
        }
        tokens += n;
    }

    /** Only the per-channel sums of squares (Wanda), skipping the O(n·d²) product. */
    public void observeSquaresOnly(float[] x, int n) {
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < d; i++) {
                double v = x[t * d + i];
                sumSquares[i] += v * v;
            }
        }
        tokens += n;
    }

    public long tokens() {
        return tokens;
    }

    /** Σ_t x_ti² per channel (d). */
    public double[] sumSquares() {
        return sumSquares.clone();
    }

    /** H/n as a full symmetric (d, d) row-major matrix. */
    public double[] matrix() {
        double[] h = new double[d * d];
        double inv = tokens == 0 ? 0 : 1.0 / tokens;
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                double v = sum == null ? 0 : sum[i * d + j] * inv;
                h[i * d + j] = v;
                h[j * d + i] = v;
            }
        }
        return h;
    }
}
