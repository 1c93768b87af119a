package dev.shrink4j.model;

/**
 * Rotary position embedding in the Hugging Face "rotate_half" layout: within each head, element i
 * pairs with element i + head_dim/2, both rotated by angle pos·θ_i. Frequencies follow
 * {@code rope_theta} and {@code rope_scaling} (linear, llama3). Tables grow on demand.
 */
final class Rope {
    private final int half;
    private final float[] invFreq; // (head_dim / 2)
    private volatile float[] cos = new float[0]; // (positions, head_dim / 2)
    private volatile float[] sin = new float[0];

    Rope(ModelConfig c) {
        int hd = c.headDim();
        this.half = hd / 2;
        this.invFreq = new float[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = (float) (1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / hd));
        }
        ModelConfig.RopeScaling s = c.ropeScaling();
        switch (s.type()) {
            case "linear" -> {
                for (int i = 0; i < half; i++) invFreq[i] = (float) (invFreq[i] / s.factor());
            }
            case "llama3" -> {
                double lowWavelen = s.originalMaxPositions() / s.lowFreqFactor();
                double highWavelen = s.originalMaxPositions() / s.highFreqFactor();
                for (int i = 0; i < half; i++) {
                    double f = invFreq[i];
                    double wavelen = 2 * Math.PI / f;
                    if (wavelen > lowWavelen) {
                        f = f / s.factor();
                    } else if (wavelen >= highWavelen) {
                        double smooth = (s.originalMaxPositions() / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                        f = (1 - smooth) * f / s.factor() + smooth * f;
                    }
                    invFreq[i] = (float) f;
                }
            }
            default -> {}
        }
    }

    private void ensure(int positions) {
        if (cos.length >= positions * half) return;
        synchronized (this) {
            if (cos.length >= positions * half) return;
            int p = Math.max(positions, Math.min(2 * cos.length / Math.max(half, 1), 1 << 20));
            float[] c = new float[p * half];
            float[] s = new float[p * half];
            for (int pos = 0; pos < p; pos++) {
                for (int i = 0; i < half; i++) {
                    float angle = pos * invFreq[i]; // f32 product, as HF computes it
                    c[pos * half + i] = (float) Math.cos(angle);
                    s[pos * half + i] = (float) Math.sin(angle);
                }
            }
            sin = s;
            cos = c;
        }
    }

    /**
     * Rotates heads in place: {@code x} holds {@code rows} tokens of {@code heads} heads each
     * (row stride heads·head_dim); token r sits at position {@code pos0 + r % seqLen}.
     * {@code inverse} applies the transpose rotation (the backward pass).
     */
    void apply(float[] x, int rows, int heads, int seqLen, int pos0, boolean inverse) {
        ensure(pos0 + Math.min(rows, seqLen));
        float[] c = cos;
        float[] s = sin;
        int hd = 2 * half;
        int width = heads * hd;
        float sign = inverse ? -1f : 1f;
        Gemm.parallelFor(Math.max(1, Math.min(rows, 64)), chunk -> {
            int chunks = Math.max(1, Math.min(rows, 64));
            int r0 = (int) ((long) rows * chunk / chunks);
            int r1 = (int) ((long) rows * (chunk + 1) / chunks);
            for (int r = r0; r < r1; r++) {
                int pos = pos0 + r % seqLen;
                int t = pos * half;
                for (int h = 0; h < heads; h++) {
                    int o = r * width + h * hd;
                    for (int i = 0; i < half; i++) {
                        float x1 = x[o + i];
                        float x2 = x[o + i + half];
                        float cc = c[t + i];
                        float ss = sign * s[t + i];
                        x[o + i] = x1 * cc - x2 * ss;
                        x[o + i + half] = x2 * cc + x1 * ss;
                    }
                }
            }
        });
    }

    /**
     * Rotates the heads of {@code rows} tokens in place, token r at its own position {@code pos[r]}
     * (batched decoding: each sequence is at its own place in its own story).
     */
    void applyAt(float[] x, int rows, int heads, int[] pos) {
        int max = 0;
        for (int r = 0; r < rows; r++) max = Math.max(max, pos[r]);
        ensure(max + 1);
        float[] c = cos;
        float[] s = sin;
        int hd = 2 * half;
        int width = heads * hd;
        for (int r = 0; r < rows; r++) {
            int t = pos[r] * half;
            for (int h = 0; h < heads; h++) {
                int o = r * width + h * hd;
                for (int i = 0; i < half; i++) {
                    float x1 = x[o + i];
                    float x2 = x[o + i + half];
                    x[o + i] = x1 * c[t + i] - x2 * s[t + i];
                    x[o + i + half] = x2 * c[t + i] + x1 * s[t + i];
                }
            }
        }
    }
}
