package dev.shrink4j.model;

import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;

/**
 * One linear layer y = x·Wᵀ (+ b) as the runtime sees it. Dense weights ({@link DenseLinear}) and
 * compressed formats implement the same three operations, so {@code eval} and {@code generate} run
 * compressed checkpoints through an adapter that only supplies a matmul and a dequantize.
 * Activations are row-major F32 arrays with one row per token.
 */
public interface Linear {
    /** d_in. */
    int inFeatures();

    /** d_out. */
    int outFeatures();

    /** y(n, d_out) = x(n, d_in) · Wᵀ + b. */
    void forward(float[] x, int n, float[] y);

    /** dx(n, d_in) += dy(n, d_out) · W: the gradient with respect to the input. */
    void backwardInput(float[] dy, int n, float[] dx);

    /**
     * As {@link #backwardInput(float[], int, float[])}, given also the layer's input x (n, d_in) of the
     * same tokens: the backward pass calls this one, so a layer that is not linear in x (a LOST layer
     * with SiLU between its factors, docs/methods/lowrank-lost.md §7) can form its Jacobian.
     */
    default void backwardInput(float[] x, float[] dy, int n, float[] dx) {
        backwardInput(dy, n, dx);
    }

    /** The weight (d_out, d_in) as stored (dense) or dequantized to F32 into {@code arena} (compressed). */
    Tensor weight(Arena arena);

    /** The bias (d_out), or null. */
    float[] bias();
}
