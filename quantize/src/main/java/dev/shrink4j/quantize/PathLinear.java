package dev.shrink4j.quantize;

import dev.shrink4j.model.Linear;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;

/**
 * A linear at a point of the quantization path, W(t) = W + t·(W̃ − W) (docs/methods/pqi-requant.md §1),
 * without forming W(t): since x·W(t)ᵀ = (1 − t)·x·Wᵀ + t·x·W̃ᵀ, the forward and the input gradient run
 * the original (mapped) and the quantized (its format's kernel) linears and mix their outputs. So a
 * whole-model path costs no weight memory at all; the weight gradient Gᵀ X the backward pass computes
 * is the gradient at W(t), whatever the linear is made of. At t = 0 and t = 1 only one side runs.
 */
final class PathLinear implements Linear {
    private final Linear original; // (d_out, d_in)
    private final Linear quantized; // (d_out, d_in)
    private final float t;

    PathLinear(Linear original, Linear quantized, double t) {
        if (original.outFeatures() != quantized.outFeatures() || original.inFeatures() != quantized.inFeatures()) {
            throw new IllegalArgumentException("original (" + original.outFeatures() + ", " + original.inFeatures() + ") and quantized ("
                    + quantized.outFeatures() + ", " + quantized.inFeatures() + ") differ in shape");
        }
        this.original = original;
        this.quantized = quantized;
        this.t = (float) t;
    }

    /** The linear at t: one of the two ends when t is 0 or 1, else the mix. */
    static Linear at(Linear original, Linear quantized, double t) {
        if (t == 0) return original;
        if (t == 1) return quantized;
        return new PathLinear(original, quantized, t);
    }

    @Override
    public int inFeatures() {
        return original.inFeatures();
    }

    @Override
    public int outFeatures() {
        return original.outFeatures();
    }

    @Override
    public void forward(float[] x, int n, float[] y) {
        int m = n * outFeatures();
        float[] yq = new float[m];
        original.forward(x, n, y);
        quantized.forward(x, n, yq);
        float s = 1 - t;
        for (int i = 0; i < m; i++) y[i] = s * y[i] + t * yq[i];
    }

    @Override
    public void backwardInput(float[] dy, int n, float[] dx) {
        int m = n * outFeatures();
        float[] scaled = new float[m];
        float s = 1 - t;
        for (int i = 0; i < m; i++) scaled[i] = s * dy[i];
        original.backwardInput(scaled, n, dx);
        for (int i = 0; i < m; i++) scaled[i] = t * dy[i];
        quantized.backwardInput(scaled, n, dx);
    }

    /** Not needed on the path (the backward pass reads only the inputs for Gᵀ X); refused to keep W(t) unformed. */
    @Override
    public Tensor weight(Arena arena) {
        throw new UnsupportedOperationException("the path linear never forms W(t)");
    }

    @Override
    public float[] bias() {
        float[] a = original.bias(), b = quantized.bias();
        if (a == null && b == null) return null;
        float[] r = new float[outFeatures()];
        for (int j = 0; j < r.length; j++) r[j] = (1 - t) * (a == null ? 0 : a[j]) + t * (b == null ? 0 : b[j]);
        return r;
    }
}
