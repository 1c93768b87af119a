package dev.shrink4j.quantize;

import dev.shrink4j.model.Linear;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import java.lang.foreign.Arena;

/** A model linear over a compressed weight: the forward pass runs the format's own matmul kernel. */
public final class CompressedLinear implements Linear {
    private final CompressedWeight w; // (d_out, d_in)

    public CompressedLinear(CompressedWeight w) {
        this.w = w;
    }

    public CompressedWeight weight() {
        return w;
    }

    @Override
    public int inFeatures() {
        return w.dIn();
    }

    @Override
    public int outFeatures() {
        return w.dOut();
    }

    @Override
    public void forward(float[] x, int n, float[] y) {
        w.matmul(x, n, y);
    }

    @Override
    public void backwardInput(float[] dy, int n, float[] dx) {
        float[] dense = dequantize();
        int dOut = w.dOut(), dIn = w.dIn();
        dev.shrink4j.tensors.kernels.Kernels.get().gemmAB(n, dIn, dOut, dy, 0, dOut, dense, 0, dIn, dx, 0, dIn, true);
    }

    @Override
    public Tensor weight(Arena arena) {
        return Tensor.ofFloats(arena, Shape.matrix(w.dOut(), w.dIn()), dequantize());
    }

    /** Ŵ, (d_out, d_in), F32. */
    public float[] dequantize() {
        float[] d = new float[w.dOut() * w.dIn()];
        for (int j = 0; j < w.dOut(); j++) w.dequantizeRow(j, d, j * w.dIn());
        return d;
    }

    @Override
    public float[] bias() {
        return null;
    }
}
