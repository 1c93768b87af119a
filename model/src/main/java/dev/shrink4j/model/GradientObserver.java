package dev.shrink4j.model;

/**
 * Receives what the backward pass computes, on request only. Output gradients G = ∂ℓ/∂Y come with
 * the linear's input X of the same tokens (so Gᵀ X, G², per-token saliencies are all at hand); weight
 * gradients are computed only for tensors where {@link #wantsWeightGradient} says so. Arrays are only
 * valid during the call. ℓ is the token-mean cross-entropy of the batch.
 */
public interface GradientObserver {
    /** Whether to call {@link #outputGradient} for this linear. */
    default boolean wantsOutputGradient(int layer, Proj proj) {
        return false;
    }

    /**
     * @param x input of the linear (n, d_in)
     * @param g gradient of ℓ with respect to the linear's output (n, d_out)
     */
    default void outputGradient(int layer, Proj proj, float[] x, float[] g, int n) {}

    /** Whether to compute the gradient of the named weight (HF tensor name). */
    default boolean wantsWeightGradient(String tensorName) {
        return false;
    }

    /**
     * @param grad ∂ℓ/∂W with the tensor's shape, row-major (e.g. (d_out, d_in) for a linear,
     *             (vocab, hidden) for the embedding)
     */
    default void weightGradient(String tensorName, float[] grad) {}
}
