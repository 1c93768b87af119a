package dev.shrink4j.model;

/**
 * How much text a model writes for its own calibration ({@code --calib self}) when the user does not
 * say. Generating costs about 2·P floating-point operations per token for a model of P parameters
 * (batched decoding is GEMM-bound), so the default calibration of 128 × min(2048, context) tokens —
 * 65 K tokens on the demo, a second — would be 262 K tokens on a 1B model: hours on two cores.
 *
 * <p>The rule: keep the requested size when generating it costs at most {@link #FLOP_BUDGET}
 * (2·P·tokens: measured 8.6 minutes for a TinyLlama-1.1B-shaped model on a
 * 2-core Xeon, 37 GFLOP/s of batched decoding); otherwise shorten the sequences
 * to {@link #REDUCED_SEQ_LEN} tokens and keep as many of them as the budget buys, at least
 * {@link #MIN_SAMPLES}. A TinyLlama-1.1B-shaped model (1.03 B parameters through its linears and head) gets 18 × 512 tokens. An explicit
 * {@code --samples} or {@code --seq-len} is always honoured.
 */
public final class SelfCalibration {
    /** Sampling temperature of self-generated text. */
    public static final double TEMPERATURE = 1.0;
    /** Nucleus mass of self-generated text. */
    public static final double TOP_P = 0.95;
    /** Floating-point operations the default self-calibration may spend on generation (minutes on two cores). */
    public static final double FLOP_BUDGET = 2e13;
    /** Sequence length of a reduced default. */
    public static final int REDUCED_SEQ_LEN = 512;
    /** Fewest sequences a reduced default keeps. */
    public static final int MIN_SAMPLES = 4;

    /**
     * @param samples sequences
     * @param seqLen  tokens per sequence, BOS included
     * @param reduced whether the rule shrank the requested size
     */
    public record Size(int samples, int seqLen, boolean reduced) {
        public long tokens() {
            return (long) samples * seqLen;
        }
    }

    private SelfCalibration() {}

    /** The default size for a model of {@code parameters} asked for {@code samples} × {@code seqLen} (≤ 0: the default length). */
    public static Size defaults(ModelConfig config, long parameters, int samples, int seqLen) {
        int T = seqLen <= 0 ? config.defaultSeqLen() : seqLen;
        if (2.0 * parameters * samples * (T - 1) <= FLOP_BUDGET) return new Size(samples, T, false);
        int reducedT = Math.min(T, REDUCED_SEQ_LEN);
        long affordable = (long) (FLOP_BUDGET / (2.0 * parameters * (reducedT - 1)));
        int n = (int) Math.max(MIN_SAMPLES, Math.min(samples, affordable));
        return new Size(n, reducedT, true);
    }

    /**
     * The size a run generates: {@code samples} × {@code seqLen} as given when the user {@code chose}
     * either, else {@link #defaults}.
     */
    public static Size of(ModelConfig config, long parameters, int samples, int seqLen, boolean chosen) {
        return chosen ? new Size(samples, seqLen <= 0 ? config.defaultSeqLen() : seqLen, false)
                : defaults(config, parameters, samples, seqLen);
    }

    /** Parameters a generated token passes through: every linear (embedding lookups are free, the head is not). */
    public static long parameters(LlamaModel model) {
        long p = (long) model.config().vocabSize() * model.config().hiddenSize(); // the LM head
        for (int l = 0; l < model.numLayers(); l++) {
            for (Linear lin : model.layer(l).linears().values()) p += (long) lin.outFeatures() * lin.inFeatures();
        }
        return p;
    }

    /** The same count from the shapes alone (no weights loaded), e.g. to plan memory before a run. */
    public static long parameters(ModelConfig c) {
        long h = c.hiddenSize();
        long p = (long) c.vocabSize() * h;
        for (int l = 0; l < c.numLayers(); l++) {
            p += 3 * h * c.intermediateSize(l);
            if (c.hasAttention(l)) p += 2 * h * c.qDim() + 2 * h * c.kvDim();
        }
        return p;
    }

    /** Heap bytes of the KV caches while generating {@code size} (F32 keys and values, at most one group's budget). */
    public static long cacheBytes(ModelConfig c, Size size) {
        long perSequence = 2L * 4 * Math.min(c.maxPositions(), size.seqLen()) * c.kvDim() * c.numLayers();
        return Math.min(BatchGenerator.KV_BUDGET_BYTES, perSequence * size.samples());
    }
}
