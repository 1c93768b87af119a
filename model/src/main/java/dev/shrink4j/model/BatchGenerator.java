package dev.shrink4j.model;

import dev.shrink4j.tensors.ShrinkException;
import java.util.Arrays;

/**
 * Sampled generation of many token streams at once, for self-calibration: every step runs each block
 * once on one row per live sequence — the linears as one GEMM over all rows instead of a matvec per
 * sequence — with a KV cache per sequence and attention, RoPE and sampling per row at that sequence's
 * own position.
 *
 * <p>Each stream holds exactly {@code length} tokens (no BOS). A story starts from BOS; when it ends
 * (EOS) or fills the context, the next story starts from BOS again and its tokens follow in the same
 * stream, as stories follow each other in a text file. Sequence i samples with its own
 * {@link Sampler} seeded from (seed, i), so a stream does not depend on which others share its batch.
 * Sequences are decoded in groups whose KV caches fit {@link #KV_BUDGET_BYTES}.
 */
public final class BatchGenerator {
    /** KV-cache bytes of one group of sequences decoded together (F32 keys and values, every layer). */
    public static final long KV_BUDGET_BYTES = 1L << 30;
    /** A sequence that ends this many stories in a row without a token cannot calibrate anything. */
    private static final int MAX_EMPTY_STORIES = 100;

    /** Progress: {@code done} of {@code total} tokens generated over all streams. */
    @FunctionalInterface
    public interface Listener {
        void tokens(long done, long total);
    }

    private final LlamaModel model;
    private final ModelConfig c;

    public BatchGenerator(LlamaModel model) {
        this.model = model;
        this.c = model.config();
    }

    /**
     * {@code count} streams of {@code length} tokens each, sampled with temperature {@code temperature}
     * and nucleus mass {@code topP}.
     *
     * @param listener may be null
     * @return (count, length) token ids
     */
    public int[][] generate(int count, int length, double temperature, double topP, long seed, Listener listener) {
        if (count < 1 || length < 1) throw new IllegalArgumentException("need at least one stream of one token, got " + count + " × " + length);
        int capacity = Math.min(c.maxPositions(), length + 1);
        long perSequence = 2L * 4 * capacity * c.kvDim() * c.numLayers();
        int group = (int) Math.max(1, Math.min(count, KV_BUDGET_BYTES / Math.max(1, perSequence)));
        int[][] streams = new int[count][length];
        long[] done = {0};
        long total = (long) count * length;
        for (int g0 = 0; g0 < count; g0 += group) {
            int n = Math.min(group, count - g0);
            Sampler[] samplers = new Sampler[n];
            for (int i = 0; i < n; i++) samplers[i] = Sampler.of(temperature, topP, seed * 1_000_003L + g0 + i);
            decodeGroup(Arrays.copyOfRange(streams, g0, g0 + n), samplers, capacity, done, total, listener);
        }
        return streams;
    }

    /** Fills {@code streams} (n, length); Modified. */
    private void decodeGroup(int[][] streams, Sampler[] samplers, int capacity, long[] done, long total, Listener listener) {
        int n = streams.length;
        int length = streams[0].length;
        int layers = c.numLayers();
        float[][][] kc = new float[layers][n][];
        float[][][] vc = new float[layers][n][];
        for (int l = 0; l < layers; l++) {
            if (!c.hasAttention(l)) continue;
            for (int s = 0; s < n; s++) {
                kc[l][s] = new float[capacity * c.kvDim()];
                vc[l][s] = new float[capacity * c.kvDim()];
            }
        }
        int[] produced = new int[n];
        int[] pos = new int[n];       // the position of each sequence's next input token
        int[] input = new int[n];     // that token
        int[] emptyStories = new int[n];
        Arrays.fill(input, c.bosTokenId());
        int[] live = new int[n];
        int v = c.vocabSize();
        while (true) {
            int rows = 0;
            for (int s = 0; s < n; s++) if (produced[s] < length) live[rows++] = s;
            if (rows == 0) return;
            float[] logits = step(Arrays.copyOf(live, rows), input, pos, kc, vc);
            int[] next = new int[rows];
            Gemm.parallelFor(rows, i -> next[i] = samplers[live[i]].next(Arrays.copyOfRange(logits, i * v, (i + 1) * v)));
            for (int i = 0; i < rows; i++) {
                int s = live[i];
                boolean storyEnds = c.isEos(next[i]);
                if (!storyEnds) {
                    streams[s][produced[s]++] = next[i];
                    emptyStories[s] = 0;
                    done[0]++;
                } else if (pos[s] == 0 && ++emptyStories[s] > MAX_EMPTY_STORIES) {
                    throw new ShrinkException("--calib self: the model keeps generating EOS at once; give a calibration text");
                }
                if (storyEnds || pos[s] + 1 >= capacity) {
                    pos[s] = 0; // a new story from BOS; its tokens follow in the same stream
                    input[s] = c.bosTokenId();
                } else {
                    pos[s]++;
                    input[s] = next[i];
                }
            }
            if (listener != null) listener.tokens(done[0], total);
        }
    }

    /**
     * One decoding step of the sequences {@code live}: each runs its {@code input} token at its
     * {@code pos}, its keys and values appended to its caches. Returns the logits (rows, vocab).
     */
    private float[] step(int[] live, int[] input, int[] pos, float[][][] kc, float[][][] vc) {
        int rows = live.length;
        int d = c.hiddenSize();
        int qd = c.qDim();
        int kvd = c.kvDim();
        int[] tokens = new int[rows];
        int[] at = new int[rows];
        for (int i = 0; i < rows; i++) {
            tokens[i] = input[live[i]];
            at[i] = pos[live[i]];
        }
        float[] x = model.embed(tokens);
        TransformerBlock block = model.block();
        for (int l = 0; l < c.numLayers(); l++) {
            Layer layer = model.layer(l);
            if (layer.hasAttention()) {
                float[] h = new float[rows * d];
                RmsNorm.forward(x, rows, d, layer.attnNorm(), c.rmsNormEps(), h, null);
                float[] q = new float[rows * qd];
                float[] k = new float[rows * kvd];
                float[] val = new float[rows * kvd];
                layer.linear(Proj.Q).forward(h, rows, q);
                layer.linear(Proj.K).forward(h, rows, k);
                layer.linear(Proj.V).forward(h, rows, val);
                block.rope().applyAt(q, rows, c.numHeads(), at);
                block.rope().applyAt(k, rows, c.numKvHeads(), at);
                float[] a = new float[rows * qd];
                float[][] kl = kc[l];
                float[][] vl = vc[l];
                Gemm.parallelFor(rows, i -> {
                    int s = live[i];
                    System.arraycopy(k, i * kvd, kl[s], at[i] * kvd, kvd);
                    System.arraycopy(val, i * kvd, vl[s], at[i] * kvd, kvd);
                    float[] ai = new float[qd];
                    block.attention().decode(Arrays.copyOfRange(q, i * qd, (i + 1) * qd), kl[s], vl[s], at[i], ai);
                    System.arraycopy(ai, 0, a, i * qd, qd);
                });
                float[] o = new float[rows * d];
                layer.linear(Proj.O).forward(a, rows, o);
                for (int i = 0; i < x.length; i++) x[i] += o[i];
            }
            int f = layer.intermediateSize();
            float[] h = new float[rows * d];
            RmsNorm.forward(x, rows, d, layer.mlpNorm(), c.rmsNormEps(), h, null);
            float[] g = new float[rows * f];
            float[] u = new float[rows * f];
            layer.linear(Proj.GATE).forward(h, rows, g);
            layer.linear(Proj.UP).forward(h, rows, u);
            for (int i = 0; i < g.length; i++) g[i] = TransformerBlock.silu(g[i]) * u[i];
            float[] dn = new float[rows * d];
            layer.linear(Proj.DOWN).forward(g, rows, dn);
            for (int i = 0; i < x.length; i++) x[i] += dn[i];
        }
        return model.logits(x, 0, rows);
    }
}
