package dev.shrink4j.model;

import dev.shrink4j.tensors.ShrinkException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Calibration sequences (docs/methods/pipeline.md §1 step 1): {@code samples} windows of {@code seqLen} tokens, each
 * BOS followed by T − 1 consecutive tokens of the tokenized text at a seeded random offset. With
 * {@code self} as the source, the text is the model's own seeded sampled generations.
 *
 * @param sequences (samples, seqLen) token ids, BOS first
 * @param record    what to write into reports and checkpoint provenance
 */
public record Calibration(int[][] sequences, Record record) {
    /**
     * Provenance of a calibration set.
     *
     * @param file       the text file, or "self" for generated text
     * @param textTokens tokens in the whole tokenized text
     * @param tokens     tokens in all sequences (samples × seq_len)
     */
    public record Record(String file, int samples, int seqLen, long seed, long textTokens, long tokens) {}

    /**
     * Windows already cut elsewhere, flattened as (samples, seqLen) in {@code tokens}, taken as they
     * are (BOS first is the caller's business); the record names {@code source}, with seed 0.
     */
    public static Calibration ofWindows(int[] tokens, int seqLen, String source) {
        if (seqLen < 1 || tokens.length % seqLen != 0) {
            throw new IllegalArgumentException(tokens.length + " tokens are not whole windows of " + seqLen);
        }
        int samples = tokens.length / seqLen;
        int[][] seqs = new int[samples][];
        for (int s = 0; s < samples; s++) {
            seqs[s] = java.util.Arrays.copyOfRange(tokens, s * seqLen, (s + 1) * seqLen);
        }
        return new Calibration(seqs, new Record(source, samples, seqLen, 0, tokens.length, tokens.length));
    }

    /** Reads {@code file} and draws the windows (see {@link #fromTokens}). */
    public static Calibration fromFile(Path file, Tokenizer tokenizer, ModelConfig config, int samples, int seqLen, long seed) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ShrinkException("cannot read calibration text " + file + ": " + e.getMessage(), e);
        }
        if (text.isBlank()) {
            throw new ShrinkException("calibration text " + file + " is empty");
        }
        return fromTokens(tokenizer.encode(text, false), file.toString(), config, samples, seqLen, seed);
    }

    /**
     * Draws {@code samples} windows from {@code stream} (no BOS) at offsets uniform in
     * [0, len − (T − 1)] from {@code SplittableRandom(seed)}. {@code seqLen} ≤ 0 means
     * min(2048, context).
     */
    public static Calibration fromTokens(int[] stream, String source, ModelConfig config, int samples, int seqLen, long seed) {
        int T = seqLen <= 0 ? config.defaultSeqLen() : seqLen;
        if (T > config.maxPositions()) {
            throw new ShrinkException("calibration seq-len " + T + " exceeds the model's context of " + config.maxPositions() + " tokens");
        }
        if (T < 2 || samples < 1) {
            throw new ShrinkException("calibration needs at least 1 sample of at least 2 tokens, got " + samples + " × " + T);
        }
        if (stream.length < T - 1) {
            throw new ShrinkException("calibration text " + source + " has " + stream.length + " tokens, fewer than one window of " + (T - 1));
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        int[][] seqs = new int[samples][T];
        for (int s = 0; s < samples; s++) {
            int off = rnd.nextInt(stream.length - (T - 1) + 1);
            seqs[s][0] = config.bosTokenId();
            System.arraycopy(stream, off, seqs[s], 1, T - 1);
        }
        return new Calibration(seqs, new Record(source, samples, T, seed, stream.length, (long) samples * T));
    }

    /**
     * The CLI's {@code --calib SOURCE}: {@code self} (the model's own generations, {@link #selfGenerated}),
     * {@code random} (uniform random token ids, seeded: only for timing and memory runs on synthetic
     * checkpoints without a tokenizer; {@code tokenizer} may then be null) or a text file.
     */
    public static Calibration fromSource(String source, LlamaModel model, Tokenizer tokenizer, int samples, int seqLen, long seed) {
        return switch (source) {
            case "self" -> selfGenerated(model, tokenizer, samples, seqLen, seed);
            case "random" -> random(model.config(), samples, seqLen, seed);
            default -> fromFile(Path.of(source), tokenizer, model.config(), samples, seqLen, seed);
        };
    }

    /** Uniform random token ids in [3, vocab) (seeded), windows drawn as from a file. */
    public static Calibration random(ModelConfig config, int samples, int seqLen, long seed) {
        int T = seqLen <= 0 ? config.defaultSeqLen() : seqLen;
        SplittableRandom r = new SplittableRandom(seed);
        int[] stream = new int[samples * T];
        for (int i = 0; i < stream.length; i++) stream[i] = 3 + r.nextInt(config.vocabSize() - 3);
        return fromTokens(stream, "random", config, samples, T, seed);
    }

    /**
     * {@code --calib self}: the model writes its own calibration. {@code samples} streams of T − 1 tokens
     * are sampled at once from BOS ({@link BatchGenerator}: temperature 1, top-p 0.95, stream i seeded
     * from (seed, i); a story that ends is followed by the next in the same stream), and window i is BOS
     * followed by stream i. Token ids throughout: no tokenizer is needed (synthetic checkpoints
     * self-calibrate too), and exactly the tokens the windows need are generated. {@code seqLen} ≤ 0
     * means min(2048, context); see {@link SelfCalibration} for the default size on large models.
     *
     * @param tokenizer unused (kept for callers; may be null)
     */
    public static Calibration selfGenerated(LlamaModel model, Tokenizer tokenizer, int samples, int seqLen, long seed) {
        return selfGenerated(model, samples, seqLen, seed, null);
    }

    /** As above, reporting the tokens generated so far to {@code listener} (may be null) after every step. */
    public static Calibration selfGenerated(LlamaModel model, int samples, int seqLen, long seed, BatchGenerator.Listener listener) {
        ModelConfig c = model.config();
        int T = seqLen <= 0 ? c.defaultSeqLen() : seqLen;
        if (T > c.maxPositions()) {
            throw new ShrinkException("calibration seq-len " + T + " exceeds the model's context of " + c.maxPositions() + " tokens");
        }
        if (T < 2 || samples < 1) {
            throw new ShrinkException("calibration needs at least 1 sample of at least 2 tokens, got " + samples + " × " + T);
        }
        int[][] streams = new BatchGenerator(model).generate(samples, T - 1, SelfCalibration.TEMPERATURE, SelfCalibration.TOP_P, seed, listener);
        int[][] seqs = new int[samples][T];
        for (int s = 0; s < samples; s++) {
            seqs[s][0] = c.bosTokenId();
            System.arraycopy(streams[s], 0, seqs[s], 1, T - 1);
        }
        return new Calibration(seqs, new Record("self", samples, T, seed, (long) samples * (T - 1), (long) samples * T));
    }
}
