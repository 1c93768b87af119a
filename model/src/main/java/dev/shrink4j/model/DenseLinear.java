package dev.shrink4j.model;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;

/** A linear layer over a dense F32/F16/BF16 weight (d_out, d_in), widened to F32 panel by panel. */
public final class DenseLinear implements Linear {
    private final Tensor w; // (d_out, d_in)
    private final float[] bias; // (d_out) or null
    private final int dOut;
    private final int dIn;

    public DenseLinear(Tensor w, float[] bias) {
        if (w.shape().rank() != 2) {
            throw new IllegalArgumentException("linear weight must be 2-D, got " + w.shape());
        }
        if (w.dtype() != DType.F32 && w.dtype() != DType.F16 && w.dtype() != DType.BF16) {
            throw new IllegalArgumentException("linear weight must be F32, F16 or BF16, got " + w.dtype());
        }
        this.w = w;
        this.bias = bias;
        this.dOut = (int) w.shape().dim(0);
        this.dIn = (int) w.shape().dim(1);
        if (bias != null && bias.length != dOut) {
            throw new IllegalArgumentException("bias has " + bias.length + " values for " + dOut + " outputs");
        }
    }

    @Override
    public int inFeatures() {
        return dIn;
    }

    @Override
    public int outFeatures() {
        return dOut;
    }

    @Override
    public void forward(float[] x, int n, float[] y) {
        Gemm.xwt(x, n, w, y, false);
        if (bias != null) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < dOut; j++) y[i * dOut + j] += bias[j];
            }
        }
    }

    @Override
    public void backwardInput(float[] dy, int n, float[] dx) {
        Gemm.dyw(dy, n, w, dx, true);
    }

    @Override
    public Tensor weight(Arena arena) {
        return w;
    }

    @Override
    public float[] bias() {
        return bias;
    }
}
