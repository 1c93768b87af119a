package dev.shrink4j.train;

/**
 * AdamW (Loshchilov &amp; Hutter, "Decoupled Weight Decay Regularization", Algorithm 2): Adam's moments
 * with bias correction, and weight decay applied to the weights directly rather than through the
 * gradient. One step on parameter θ with gradient g at step t ≥ 1:
 * <pre>
 *   m ← β₁m + (1 − β₁)g;   v ← β₂v + (1 − β₂)g²
 *   m̂ = m/(1 − β₁ᵗ);       v̂ = v/(1 − β₂ᵗ)
 *   θ ← θ − lr·(m̂/(√v̂ + ε) + λθ)
 * </pre>
 * (PyTorch's {@code torch.optim.AdamW}: decay multiplied by the scheduled lr.) Arithmetic in double
 * per element, stored in F32, so a step depends only on its inputs, never on the thread count.
 *
 * @param beta1       first-moment decay β₁
 * @param beta2       second-moment decay β₂
 * @param eps         ε added to √v̂
 * @param weightDecay λ, applied only where {@link #step} is told to
 */
public record AdamW(double beta1, double beta2, double eps, double weightDecay) {
    public AdamW {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("betas must be in [0, 1)");
        if (!(eps > 0)) throw new IllegalArgumentException("eps must be > 0");
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be ≥ 0");
    }

    /** β = (0.9, 0.95), ε = 1e-8, λ = 0.1: the usual settings for Llama-style pre-training. */
    public static AdamW defaults() {
        return new AdamW(0.9, 0.95, 1e-8, 0.1);
    }

    /**
     * One update of θ, in place.
     *
     * @param theta (n) Modified
     * @param grad  (n) the gradient, already clipped and scaled
     * @param m     (n) first moment; Modified
     * @param v     (n) second moment; Modified
     * @param lr    this step's learning rate
     * @param t     the step number, from 1 (bias correction)
     * @param decay whether λ applies to this tensor (matrices yes, norm gains no)
     */
    public void step(float[] theta, float[] grad, float[] m, float[] v, double lr, long t, boolean decay) {
        if (t < 1) throw new IllegalArgumentException("step numbers start at 1, got " + t);
        double c1 = 1 - Math.pow(beta1, t);
        double c2 = 1 - Math.pow(beta2, t);
        double lambda = decay ? weightDecay : 0;
        for (int i = 0; i < theta.length; i++) {
            double g = grad[i];
            double mi = beta1 * m[i] + (1 - beta1) * g;
            double vi = beta2 * v[i] + (1 - beta2) * g * g;
            m[i] = (float) mi;
            v[i] = (float) vi;
            double update = (mi / c1) / (Math.sqrt(vi / c2) + eps) + lambda * theta[i];
            theta[i] = (float) (theta[i] - lr * update);
        }
    }
}
