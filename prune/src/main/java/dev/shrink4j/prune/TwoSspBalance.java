package dev.shrink4j.prune;

import dev.shrink4j.tensors.ShrinkException;

/**
 * 2SSP sparsity balancing (docs/methods/2ssp.md §1, arXiv:2501.17771): how many attention submodules to remove and how
 * many FFN neurons to keep in every block so that the removed parameters make up the target fraction
 * s of P_main. {@code round} is half-to-even ({@link Math#rint}), as Python's round in the reference.
 *
 * @param layers L
 * @param attentionParams P_attn, one attention submodule (q, k, v, o and biases) from actual shapes
 * @param mlpParams P_mlp, one FFN (gate, up, down and biases)
 * @param mainParams P_main, every parameter inside the decoder blocks (norms included)
 * @param intermediateSize d_ff before pruning
 * @param target s
 * @param attentionToRemove N_attn
 * @param ffnPrunedPerBlock p_ffn, parameters removed from each FFN by the formula
 * @param keptNeurons k, neurons kept in every block
 */
public record TwoSspBalance(int layers, long attentionParams, long mlpParams, long mainParams, int intermediateSize,
                            double target, double alpha, int attentionToRemove, long ffnPrunedPerBlock,
                            int keptNeurons) {
    /** α of the reference implementation. */
    public static final double ALPHA = 1.5;

    public static TwoSspBalance compute(int layers, long attentionParams, long mlpParams, long mainParams,
                                        int intermediateSize, double s) {
        return compute(layers, attentionParams, mlpParams, mainParams, intermediateSize, s, ALPHA);
    }

    public static TwoSspBalance compute(int layers, long attentionParams, long mlpParams, long mainParams,
                                        int intermediateSize, double s, double alpha) {
        SparsityTarget.check(s, "--sparsity");
        double exponent = ((double) mlpParams / attentionParams) / alpha;
        // docs/methods/2ssp.md §1 step 1: N_attn = round(L · s^((P_mlp/P_attn)/α))
        int nAttn = (int) Math.rint(layers * Math.pow(s, exponent));
        // step 2: feasibility
        if ((double) nAttn * attentionParams / mainParams > s) {
            throw new ShrinkException(String.format(java.util.Locale.ROOT,
                    "2SSP cannot reach sparsity %.4f: removing %d attention modules alone already removes %.4f of the block parameters",
                    s, nAttn, (double) nAttn * attentionParams / mainParams));
        }
        if ((double) nAttn * attentionParams + (double) layers * mlpParams < s * mainParams) {
            throw new ShrinkException(String.format(java.util.Locale.ROOT,
                    "2SSP cannot reach sparsity %.4f: removing %d attention modules and every FFN neuron removes only %.4f of the block parameters",
                    s, nAttn, ((double) nAttn * attentionParams + (double) layers * mlpParams) / mainParams));
        }
        // step 3: p_ffn = round((round(s·P_main) − N_attn·P_attn)/L); r = p_ffn/P_mlp; k = round(d_ff·(1 − r))
        long pFfn = (long) Math.rint((Math.rint(s * mainParams) - (double) nAttn * attentionParams) / layers);
        double r = (double) pFfn / mlpParams;
        int k = (int) Math.rint(intermediateSize * (1.0 - r));
        if (k < 1) {
            throw new ShrinkException(String.format(java.util.Locale.ROOT,
                    "2SSP cannot reach sparsity %.4f: it would keep %d FFN neurons per block (at least 1 is needed)", s, k));
        }
        return new TwoSspBalance(layers, attentionParams, mlpParams, mainParams, intermediateSize, s, alpha, nAttn, pFfn, k);
    }

    /** Fraction of FFN parameters the formula removes per block, r. */
    public double ffnFraction() {
        return (double) ffnPrunedPerBlock / mlpParams;
    }

    /**
     * Sparsity over P_main counted as the paper counts it: N_attn·P_attn plus the removed neurons'
     * share of every FFN (norm vectors of attention-less blocks not counted).
     */
    public double formulaSparsity() {
        double neuronParams = (double) mlpParams / intermediateSize;
        return (attentionToRemove * (double) attentionParams
                + layers * (intermediateSize - keptNeurons) * neuronParams) / mainParams;
    }
}
