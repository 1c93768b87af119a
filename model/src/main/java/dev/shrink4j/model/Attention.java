package dev.shrink4j.model;

/**
 * Causal grouped-query attention over batches of full sequences, forward and backward. Query head h
 * reads key/value head h / (heads / kv_heads). Scores are q·k/√d over positions j ≤ i (and
 * i − j < window for Mistral's sliding window); probabilities are recomputed in the backward pass
 * rather than stored, so memory stays one T × T tile per task. Products run in blocks of
 * {@value #BLOCK} query rows against only the key columns at or before the block (causality), which
 * halves the attention work of long sequences.
 */
final class Attention {
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int window; // 0 = unbounded
    private final float scale;
    /** Query rows per causal block. */
    static final int BLOCK = 64;

    Attention(ModelConfig c) {
        this.heads = c.numHeads();
        this.kvHeads = c.numKvHeads();
        this.headDim = c.headDim();
        this.window = c.slidingWindow();
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    /**
     * a(n, heads·hd) = softmax(q·kᵀ/√d)·v per head for {@code batch} sequences of {@code seqLen}
     * tokens; q (n, heads·hd), k and v (n, kv·hd) are already rotated.
     */
    void forward(float[] q, float[] k, float[] v, int batch, int seqLen, float[] a) {
        int qw = heads * headDim;
        int kw = kvHeads * headDim;
        int group = heads / kvHeads;
        Gemm.parallelFor(batch * heads, task -> {
            int b = task / heads;
            int h = task % heads;
            int g = h / group;
            int T = seqLen;
            float[] p = new float[T * T];
            probabilities(q, b * T * qw + h * headDim, qw, k, b * T * kw + g * headDim, kw, T, p);
            // a_h(T, hd) = P(T, T) · v_g(T, hd), read in place with the row strides of a and v.
            for (int i0 = 0; i0 < T; i0 += BLOCK) {
                int i1 = Math.min(T, i0 + BLOCK);
                Gemm.ab1(i1 - i0, headDim, i1, p, i0 * T, T, v, b * T * kw + g * headDim, kw, a, (b * T + i0) * qw + h * headDim, qw, false);
            }
        });
    }

    /** P(T, T): causal softmax of q_h·k_gᵀ·scale; q_h and k_g are read in place (offset, row stride). */
    private void probabilities(float[] q, int qOff, int ldq, float[] k, int kOff, int ldk, int T, float[] p) {
        for (int i0 = 0; i0 < T; i0 += BLOCK) { // columns beyond the block's last row are masked below
            int i1 = Math.min(T, i0 + BLOCK);
            Gemm.abt1(i1 - i0, i1, headDim, q, qOff + i0 * ldq, ldq, k, kOff, ldk, p, i0 * T, T, false);
        }
        for (int i = 0; i < T; i++) {
            int lo = window > 0 ? Math.max(0, i - window + 1) : 0;
            int row = i * T;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = lo; j <= i; j++) max = Math.max(max, p[row + j] * scale);
            float sum = 0;
            for (int j = 0; j < T; j++) {
                if (j < lo || j > i) {
                    p[row + j] = 0;
                } else {
                    float e = (float) Math.exp(p[row + j] * scale - max);
                    p[row + j] = e;
                    sum += e;
                }
            }
            float inv = 1f / sum;
            for (int j = lo; j <= i; j++) p[row + j] *= inv;
        }
    }

    /**
     * Backward: given da (n, heads·hd), writes dq (n, heads·hd), dk and dv (n, kv·hd) — gradients
     * with respect to the rotated q and k and to v. Tasks run per (sequence, kv head) so that the
     * query heads sharing a key/value head accumulate without races.
     */
    void backward(float[] q, float[] k, float[] v, float[] da, int batch, int seqLen, float[] dq, float[] dk, float[] dv) {
        int qw = heads * headDim;
        int kw = kvHeads * headDim;
        int group = heads / kvHeads;
        Gemm.parallelFor(batch * kvHeads, task -> {
            int b = task / kvHeads;
            int g = task % kvHeads;
            int T = seqLen;
            int kOff = b * T * kw + g * headDim;
            float[] p = new float[T * T];
            float[] dp = new float[T * T];
            for (int h = g * group; h < (g + 1) * group; h++) {
                int qOff = b * T * qw + h * headDim;
                probabilities(q, qOff, qw, k, kOff, kw, T, p);
                for (int i0 = 0; i0 < T; i0 += BLOCK) {
                    int i1 = Math.min(T, i0 + BLOCK);
                    Gemm.abt1(i1 - i0, i1, headDim, da, qOff + i0 * qw, qw, v, kOff, kw, dp, i0 * T, T, false); // dP = dA·Vᵀ
                    Gemm.atb1(i1, headDim, i1 - i0, p, i0 * T, T, da, qOff + i0 * qw, qw, dv, kOff, kw, true); // dV += Pᵀ·dA
                }
                for (int i = 0; i < T; i++) { // dS = P ⊙ (dP − Σ_j P·dP), times the score scale
                    int row = i * T;
                    float dot = 0;
                    for (int j = 0; j <= i; j++) dot += p[row + j] * dp[row + j];
                    for (int j = 0; j < T; j++) dp[row + j] = j <= i ? p[row + j] * (dp[row + j] - dot) * scale : 0f;
                }
                for (int i0 = 0; i0 < T; i0 += BLOCK) {
                    int i1 = Math.min(T, i0 + BLOCK);
                    Gemm.ab1(i1 - i0, headDim, i1, dp, i0 * T, T, k, kOff, kw, dq, qOff + i0 * qw, qw, false); // dQ = dS·K
                    Gemm.atb1(i1, headDim, i1 - i0, dp, i0 * T, T, q, qOff + i0 * qw, qw, dk, kOff, kw, true); // dK += dSᵀ·Q
                }
            }
        });
    }

    /**
     * One query position against a KV cache (generation): q (heads·hd) at position {@code pos};
     * cached keys/values (positions 0..pos, kv·hd each) in {@code kc}/{@code vc}; writes a (heads·hd).
     */
    void decode(float[] q, float[] kc, float[] vc, int pos, float[] a) {
        int kw = kvHeads * headDim;
        int group = heads / kvHeads;
        int lo = window > 0 ? Math.max(0, pos - window + 1) : 0;
        float[] s = new float[pos + 1];
        for (int h = 0; h < heads; h++) {
            int qo = h * headDim;
            int ko = (h / group) * headDim;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = lo; j <= pos; j++) {
                float dot = 0;
                for (int d = 0; d < headDim; d++) dot += q[qo + d] * kc[j * kw + ko + d];
                s[j] = dot * scale;
                max = Math.max(max, s[j]);
            }
            float sum = 0;
            for (int j = lo; j <= pos; j++) {
                s[j] = (float) Math.exp(s[j] - max);
                sum += s[j];
            }
            for (int d = 0; d < headDim; d++) a[qo + d] = 0;
            for (int j = lo; j <= pos; j++) {
                float w = s[j] / sum;
                for (int d = 0; d < headDim; d++) a[qo + d] += w * vc[j * kw + ko + d];
            }
        }
    }
}
