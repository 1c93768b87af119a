package dev.shrink4j.train;

import dev.shrink4j.model.Linear;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.kernels.Kernels;
import java.lang.foreign.Arena;

/**
 * A trainable factored linear (docs/methods/lowrank-lost.md §7, METHODS §7.1 step 6):
 * <pre>
 *   y = γ·B·σ(A·x) + (1 − γ)·W_s·x_I        (batch form: Y = γ·σ(X Aᵀ) Bᵀ + (1 − γ)·X[:, I] W_sᵀ)
 * </pre>
 * with σ = SiLU for LOST and σ = identity, γ = 1, no sparse part for plain low-rank training. The
 * parameters are the trainer's master arrays themselves (no copies), so an optimizer step is seen by
 * the next forward pass. I is fixed at initialisation.
 */
public final class FactoredLinear implements Linear {
    private static final Kernels K = Kernels.get();

    private final int dOut, dIn, rank;
    private final float[] a; // (rank, d_in)
    private final float[] b; // (d_out, rank)
    private final int[] cols; // (c) ascending, or empty
    private final float[] ws; // (d_out, c), or null when c = 0
    private final double gamma;
    private final boolean silu;

    /**
     * @param a     (rank, d_in) A, held (not copied)
     * @param b     (d_out, rank) B, held
     * @param cols  (c) kept input channels, ascending; empty for no sparse part
     * @param ws    (d_out, c) W_s, held; null when c = 0
     * @param gamma γ in (0, 1]; 1 with c = 0
     * @param silu  σ = SiLU (LOST) or the identity (low-rank)
     */
    public FactoredLinear(int dOut, int dIn, int rank, float[] a, float[] b, int[] cols, float[] ws, double gamma, boolean silu) {
        if (a.length != (long) rank * dIn || b.length != (long) dOut * rank) {
            throw new IllegalArgumentException("factors " + a.length + "/" + b.length + " do not match " + dOut + "x" + dIn + " rank " + rank);
        }
        if (cols.length > 0 && (ws == null || ws.length != (long) dOut * cols.length)) {
            throw new IllegalArgumentException("W_s does not match " + dOut + "x" + cols.length);
        }
        if (!(gamma > 0 && gamma <= 1)) throw new IllegalArgumentException("gamma must be in (0, 1]");
        this.dOut = dOut;
        this.dIn = dIn;
        this.rank = rank;
        this.a = a;
        this.b = b;
        this.cols = cols;
        this.ws = cols.length == 0 ? null : ws;
        this.gamma = gamma;
        this.silu = silu;
    }

    @Override public int inFeatures() {
        return dIn;
    }

    @Override public int outFeatures() {
        return dOut;
    }

    public int rank() {
        return rank;
    }

    public int columns() {
        return cols.length;
    }

    /** Stored values r(d_in + d_out) + c·d_out (docs/methods/lowrank-lost.md §5). */
    public long params() {
        return (long) rank * (dIn + dOut) + (long) cols.length * dOut;
    }

    @Override
    public void forward(float[] x, int n, float[] y) {
        float[] z = new float[n * rank]; // (n, r) = X Aᵀ
        K.gemmABt(n, rank, dIn, x, 0, dIn, a, 0, dIn, z, 0, rank, false);
        if (silu) for (int i = 0; i < z.length; i++) z[i] = silu(z[i]);
        K.gemmABt(n, dOut, rank, z, 0, rank, b, 0, rank, y, 0, dOut, false);
        if (gamma != 1) for (int i = 0; i < n * dOut; i++) y[i] *= (float) gamma;
        if (ws != null) {
            float[] ys = new float[n * dOut];
            K.gemmABt(n, dOut, cols.length, gather(x, n), 0, cols.length, ws, 0, cols.length, ys, 0, dOut, false);
            float s = (float) (1 - gamma);
            for (int i = 0; i < n * dOut; i++) y[i] += s * ys[i];
        }
    }

    /** Only the identity-σ form is linear in x; LOST needs x ({@link #backwardInput(float[], float[], int, float[])}). */
    @Override
    public void backwardInput(float[] dy, int n, float[] dx) {
        if (silu) throw new IllegalStateException("a LOST layer's input gradient needs its input x");
        backwardInput(null, dy, n, dx);
    }

    @Override
    public void backwardInput(float[] x, float[] dy, int n, float[] dx) {
        float[] dz = preActivationGradient(x, dy, n, null);
        K.gemmAB(n, dIn, rank, dz, 0, rank, a, 0, dIn, dx, 0, dIn, true); // dX += dZ·A
        if (ws != null) {
            int c = cols.length;
            float[] dxi = new float[n * c]; // (n, c) = (1 − γ)·dY·W_s
            K.gemmAB(n, c, dOut, dy, 0, dOut, ws, 0, c, dxi, 0, c, false);
            float s = (float) (1 - gamma);
            for (int t = 0; t < n; t++) {
                for (int k = 0; k < c; k++) dx[t * dIn + cols[k]] += s * dxi[t * c + k];
            }
        }
    }

    /**
     * The parameter gradients for input x (n, d_in) and output gradient dy (n, d_out), written
     * (not accumulated).
     *
     * @param dA  (rank, d_in) Modified
     * @param dB  (d_out, rank) Modified
     * @param dWs (d_out, c) Modified; ignored when c = 0
     */
    public void parameterGradients(float[] x, float[] dy, int n, float[] dA, float[] dB, float[] dWs) {
        float[] h = new float[n * rank]; // σ(X Aᵀ), filled by the call below
        float[] dz = preActivationGradient(x, dy, n, h);
        // dB = γ·dYᵀ·σ(Z)
        K.gemmAtB(dOut, rank, n, dy, 0, dOut, h, 0, rank, dB, 0, rank, false);
        if (gamma != 1) for (int i = 0; i < dB.length; i++) dB[i] *= (float) gamma;
        // dA = dZᵀ·X
        K.gemmAtB(rank, dIn, n, dz, 0, rank, x, 0, dIn, dA, 0, dIn, false);
        if (ws != null) {
            int c = cols.length;
            K.gemmAtB(dOut, c, n, dy, 0, dOut, gather(x, n), 0, c, dWs, 0, c, false);
            float s = (float) (1 - gamma);
            for (int i = 0; i < dWs.length; i++) dWs[i] *= s;
        }
    }

    /**
     * dZ (n, r) = γ·(dY·B) ⊙ σ'(X Aᵀ); stores σ(X Aᵀ) into {@code h} when non-null. x may be null only
     * for σ = identity.
     */
    private float[] preActivationGradient(float[] x, float[] dy, int n, float[] h) {
        float[] dz = new float[n * rank];
        K.gemmAB(n, rank, dOut, dy, 0, dOut, b, 0, rank, dz, 0, rank, false); // dY·B
        float g = (float) gamma;
        if (!silu) {
            if (h != null) K.gemmABt(n, rank, dIn, x, 0, dIn, a, 0, dIn, h, 0, rank, false);
            if (g != 1) for (int i = 0; i < dz.length; i++) dz[i] *= g;
            return dz;
        }
        float[] z = new float[n * rank];
        K.gemmABt(n, rank, dIn, x, 0, dIn, a, 0, dIn, z, 0, rank, false);
        for (int i = 0; i < z.length; i++) {
            float s = sigmoid(z[i]);
            if (h != null) h[i] = z[i] * s;
            dz[i] *= g * s * (1 + z[i] * (1 - s)); // SiLU'(z) = σ(z)(1 + z(1 − σ(z)))
        }
        return dz;
    }

    private float[] gather(float[] x, int n) {
        int c = cols.length;
        float[] xi = new float[n * c];
        for (int t = 0; t < n; t++) {
            for (int k = 0; k < c; k++) xi[t * c + k] = x[t * dIn + cols[k]];
        }
        return xi;
    }

    /** The merged weight exists only for σ = identity (γ·B·A + (1 − γ)·scatter_I(W_s)). */
    @Override
    public Tensor weight(Arena arena) {
        if (silu) throw new UnsupportedOperationException("a LOST layer with SiLU has no dense weight");
        float[] w = new float[dOut * dIn];
        K.gemmAB(dOut, dIn, rank, b, 0, rank, a, 0, dIn, w, 0, dIn, false);
        for (int i = 0; i < w.length; i++) w[i] *= (float) gamma;
        for (int o = 0; o < dOut && ws != null; o++) {
            for (int k = 0; k < cols.length; k++) w[o * dIn + cols[k]] += (float) ((1 - gamma) * ws[o * cols.length + k]);
        }
        return Tensor.ofFloats(arena, Shape.matrix(dOut, dIn), w);
    }

    @Override public float[] bias() {
        return null;
    }

    static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    static float silu(float x) {
        return x * sigmoid(x);
    }
}
