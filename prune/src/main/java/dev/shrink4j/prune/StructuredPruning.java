package dev.shrink4j.prune;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Structured pruning in one call (docs/methods/2ssp.md): 2SSP (arXiv:2501.17771) — balance, FFN width
 * by activation norms on the dense model, then attention submodules greedily by calibration
 * perplexity — and its two baselines: width only (the same parameter count, all from FFN width) and
 * depth (whole blocks, greedily, at the nearest reachable sparsity).
 *
 * <pre>{@code
 * try (Arena arena = Arena.ofShared()) {
 *     LlamaModel model = LlamaModel.load(in, arena);
 *     StructuredPruning.Result r = StructuredPruning.run(model, calibration, Kind.TWO_SSP, 0.3, Listener.NONE, arena);
 *     StructuredPruning.write(model, r, writer, Map.of("method", "2ssp"));
 * }
 * }</pre>
 *
 * <p>2SSP and width modify the model in place (their new layers live in {@code arena}, which must be
 * shared: the forward runs on several threads); depth leaves it unchanged and reports the blocks kept.
 */
public final class StructuredPruning {
    /** Sequences per stage-1 forward pass (a memory knob; the scores do not depend on it). */
    static final int SCORING_BATCH = 8;

    private StructuredPruning() {}

    public enum Kind {
        /** 2SSP: FFN width, then attention submodules (docs/methods/2ssp.md §1–§3). */
        TWO_SSP,
        /** FFN width only, removing as many parameters as 2SSP at the same target. */
        WIDTH,
        /** Whole blocks, greedy by calibration perplexity (BlockPruner, arXiv:2406.10594). */
        DEPTH
    }

    /**
     * Progress of the stages that take more than a second; every method has an empty default, and
     * all calls come from the thread that called {@link #run}.
     */
    public interface Listener {
        Listener NONE = new Listener() {};

        /** Before any forward pass: what will be removed. */
        default void planned(Plan plan) {}

        /** Stage 1: {@code done} of {@code total} calibration sequences scored (2SSP, width). */
        default void neuronsScored(int done, int total) {}

        /** Stage 2 (attention submodules) or depth (blocks): one candidate scored. */
        default void candidateScored(Candidate candidate) {}
    }

    /**
     * @param keptNeurons FFN neurons kept in every block (d_ff for depth)
     * @param intermediateSize d_ff before pruning
     * @param modulesToRemove attention submodules (2SSP) or blocks (depth) to remove greedily
     */
    public record Plan(Kind kind, int keptNeurons, int intermediateSize, int modulesToRemove) {}

    /**
     * One greedy evaluation: candidate {@code candidate} of {@code candidates} (1-based) in round
     * {@code round} of {@code rounds}; {@code done} of {@code total} evaluations over all rounds.
     *
     * @param module the attention submodule's or block's index
     * @param perplexity calibration perplexity with it and every earlier removal disabled
     */
    public record Candidate(int round, int rounds, int candidate, int candidates, int module, double perplexity,
                            int done, int total) {}

    /**
     * What was removed.
     *
     * @param counts parameter counts of the input model (P_attn, P_mlp, P_main)
     * @param balance the 2SSP formula (docs/methods/2ssp.md §1); null for depth
     * @param keptNeurons FFN neurons kept in every block
     * @param intermediateSize d_ff of the input
     * @param attentionRemoved attention submodules removed, in removal order (block indices)
     * @param blocksRemoved whole blocks removed, in removal order (depth)
     * @param calibrationPerplexity the calibration perplexity after each greedy round
     * @param mainParamsAfter parameters left inside the decoder blocks
     * @param blocksKept the blocks written, ascending (every block unless depth)
     */
    public record Result(Kind kind, double targetSparsity, TwoSsp.Counts counts, TwoSspBalance balance, int keptNeurons,
                         int intermediateSize, List<Integer> attentionRemoved, List<Integer> blocksRemoved,
                         List<Double> calibrationPerplexity, long mainParamsAfter, List<Integer> blocksKept) {
        public long mainParamsBefore() {
            return counts.main();
        }

        /** 1 − P_main after / P_main before, norm vectors of attention-less blocks counted as removed. */
        public double achievedSparsity() {
            return 1.0 - (double) mainParamsAfter / counts.main();
        }

        /** The formula's sparsity as the paper counts it; NaN for depth (no formula). */
        public double formulaSparsity() {
            return balance == null ? Double.NaN : balance.formulaSparsity();
        }
    }

    /**
     * The calibration layout of the 2SSP reference (docs/methods/2ssp.md): the text's tokens (no BOS)
     * cut into consecutive chunks of {@code seqLen}, the first {@code samples} of them (fewer when the
     * text is short, never none).
     *
     * @return (samples', seqLen) token ids
     */
    public static int[][] consecutiveChunks(int[] stream, String source, int samples, int seqLen) {
        int n = Math.min(samples, stream.length / seqLen);
        if (n == 0) {
            throw new ShrinkException(source + ": " + stream.length + " tokens, fewer than one sequence of " + seqLen);
        }
        int[][] chunks = new int[n][];
        for (int i = 0; i < n; i++) chunks[i] = java.util.Arrays.copyOfRange(stream, i * seqLen, (i + 1) * seqLen);
        return chunks;
    }

    /** As {@link #run(LlamaModel, int[][], Kind, double, Listener, Arena)} on the calibration's sequences. */
    public static Result run(LlamaModel model, Calibration calibration, Kind kind, double targetSparsity,
                             Listener listener, Arena arena) {
        return run(model, calibration.sequences(), kind, targetSparsity, listener, arena, null);
    }

    /**
     * As above, resumable (docs/reliability.md "Resume"): stage 1's kept neurons and every greedy round are
     * checkpointed in {@code resume} (null: not kept) as they finish, and a rerun continues after them.
     */
    public static Result run(LlamaModel model, Calibration calibration, Kind kind, double targetSparsity,
                             Listener listener, Arena arena, dev.shrink4j.model.Resume resume) {
        return run(model, calibration.sequences(), kind, targetSparsity, listener, arena, resume);
    }

    /**
     * Prunes {@code model} to {@code targetSparsity} of its decoder-block parameters.
     *
     * @param calibration (samples, T) token ids, every sequence of the same length; the 2SSP protocol
     *                    cuts the text (no BOS) into consecutive chunks (docs/methods/2ssp.md §4).
     *                    Stage 1 scores on all of them, stage 2 on the first; depth scores on all.
     * @param listener    progress; {@link Listener#NONE} for none
     */
    public static Result run(LlamaModel model, int[][] calibration, Kind kind, double targetSparsity,
                             Listener listener, Arena arena) {
        return run(model, calibration, kind, targetSparsity, listener, arena, null);
    }

    /** As above; {@code resume} keeps the stages (null: not kept). */
    public static Result run(LlamaModel model, int[][] calibration, Kind kind, double targetSparsity,
                             Listener listener, Arena arena, dev.shrink4j.model.Resume resume) {
        SparsityTarget.check(targetSparsity, "--sparsity");
        if (calibration.length == 0) {
            throw new IllegalArgumentException("structured pruning needs at least one calibration sequence");
        }
        int seqLen = calibration[0].length;
        int[] tokens = new int[Math.multiplyExact(calibration.length, seqLen)];
        for (int i = 0; i < calibration.length; i++) {
            if (calibration[i].length != seqLen) {
                throw new IllegalArgumentException("calibration sequence " + i + " has " + calibration[i].length
                        + " tokens; the first has " + seqLen);
            }
            System.arraycopy(calibration[i], 0, tokens, i * seqLen, seqLen);
        }
        TwoSsp.Counts counts = TwoSsp.Counts.of(model);
        StructuredResume kept = new StructuredResume(resume, kind);
        return kind == Kind.DEPTH
                ? depth(model, tokens, calibration.length, seqLen, targetSparsity, counts, listener, kept)
                : widthThenAttention(model, tokens, calibration.length, seqLen, kind, targetSparsity, counts, listener, arena, kept);
    }

    private static Result depth(LlamaModel model, int[] cal, int samples, int seqLen, double s, TwoSsp.Counts counts,
                                Listener listener, StructuredResume resume) {
        int layers = model.numLayers();
        int dff = model.layer(0).intermediateSize();
        int count = DepthPruning.blocksFor(s, layers);
        if (count >= layers) {
            throw new ShrinkException("depth pruning cannot remove all " + layers + " blocks");
        }
        listener.planned(new Plan(Kind.DEPTH, dff, dff, count));
        List<GreedyRemoval.Step> steps = DepthPruning.run(model, cal, samples, seqLen, count,
                new Rounds(layers, 0, count, listener), resume.rounds());
        int[] kept = DepthPruning.kept(layers, steps);
        return new Result(Kind.DEPTH, s, counts, null, dff, dff, List.of(), removed(steps), scores(steps),
                paramsAfter(model, kept, counts), IntStream.of(kept).boxed().toList());
    }

    private static Result widthThenAttention(LlamaModel model, int[] cal, int samples, int seqLen, Kind kind, double s,
                                TwoSsp.Counts counts, Listener listener, Arena arena, StructuredResume resume) {
        int layers = model.numLayers();
        int dff = model.layer(0).intermediateSize();
        TwoSspBalance b = TwoSspBalance.compute(layers, counts.attention(), counts.mlp(), counts.main(), dff, s);
        int kept = b.keptNeurons();
        int nAttn = b.attentionToRemove();
        if (kind == Kind.WIDTH) {
            // the same parameter count as 2SSP, all of it from FFN width
            double removed = b.formulaSparsity() * counts.main();
            kept = (int) Math.rint(dff - removed / layers / ((double) counts.mlp() / dff));
            if (kept < 1) {
                throw new ShrinkException(String.format(Locale.ROOT, "width-only pruning cannot reach sparsity %.4f", s));
            }
            nAttn = 0;
        }
        listener.planned(new Plan(kind, kept, dff, nAttn));
        int keep = kept;
        int[][] keptNeurons = resume.keptNeurons().orElseGet(() -> {
            WidthPruning[] scores = TwoSsp.scoreNeurons(model, cal, samples, seqLen, Math.max(1, Math.min(samples, SCORING_BATCH)),
                    done -> listener.neuronsScored(done, samples));
            int[][] k = new int[layers][];
            for (int l = 0; l < layers; l++) k[l] = scores[l].keep(keep);
            resume.keptNeurons(k);
            return k;
        });
        if (keptNeurons.length != layers) throw new ShrinkException("resume: stage 1 kept neurons for " + keptNeurons.length + " blocks, the model has " + layers);
        for (int l = 0; l < layers; l++) {
            TwoSsp.keepNeurons(model, l, keptNeurons[l], arena);
        }
        List<GreedyRemoval.Step> steps = nAttn == 0 ? List.of()
                : TwoSsp.removeAttention(model, java.util.Arrays.copyOf(cal, seqLen), seqLen, nAttn,
                        new Rounds(layers, 0, nAttn, listener), resume.rounds());
        int[] all = IntStream.range(0, layers).toArray();
        return new Result(kind, s, counts, b, kept, dff, removed(steps), List.of(), scores(steps),
                paramsAfter(model, all, counts), IntStream.of(all).boxed().toList());
    }

    /**
     * Writes the pruned model as a smaller dense checkpoint (docs/methods/2ssp.md §5), its linears in
     * the input's dtype; the caller adds the side files and commits.
     *
     * @param provenance what to record under {@code shrink4j.provenance}
     */
    public static void write(LlamaModel model, Result result, CheckpointWriter out, Map<String, Object> provenance) {
        // the source's dtype: stage 1's rewritten layers are F32 in memory, but their values are the source's
        String gate = Proj.GATE.weightName(0);
        DType dtype = model.weights().contains(gate) ? model.weights().tensor(gate).dtype() : DType.F32;
        int[] keep = result.kind() == Kind.DEPTH ? result.blocksKept().stream().mapToInt(Integer::intValue).toArray() : null;
        PrunedCheckpoint.writeStructured(model, keep, dtype, out, provenance);
    }

    /** Parameters of the given blocks as installed now; attention-less blocks have no input norm. */
    private static long paramsAfter(LlamaModel model, int[] blocks, TwoSsp.Counts counts) {
        long after = 0;
        for (int l : blocks) {
            Layer layer = model.layer(l);
            for (Linear lin : layer.linears().values()) {
                after += (long) lin.inFeatures() * lin.outFeatures() + (lin.bias() == null ? 0 : lin.bias().length);
            }
            after += layer.hasAttention() ? counts.norms() : counts.norms() / 2;
        }
        return after;
    }

    private static List<Integer> removed(List<GreedyRemoval.Step> steps) {
        return steps.stream().map(GreedyRemoval.Step::removed).toList();
    }

    private static List<Double> scores(List<GreedyRemoval.Step> steps) {
        return steps.stream().map(GreedyRemoval.Step::score).toList();
    }

    /** Turns {@link GreedyRemoval}'s (round, module, score) into counted {@link Candidate}s. */
    private static final class Rounds implements GreedyRemoval.Progress {
        private final Listener listener;
        private final int rounds;
        private final int firstCandidates;
        private final int total;
        private int round = -1;
        private int candidate;
        private int done;

        Rounds(int modules, int alreadyRemoved, int rounds, Listener listener) {
            this.listener = listener;
            this.rounds = rounds;
            this.firstCandidates = modules - alreadyRemoved;
            // Σ_{i<R} (C − i) evaluations (docs/methods/2ssp.md §3 step 3)
            this.total = rounds * firstCandidates - rounds * (rounds - 1) / 2;
        }

        @Override
        public void evaluated(int r, int module, double score) {
            if (r != round) {
                round = r;
                candidate = 0;
            }
            candidate++;
            done++;
            listener.candidateScored(new Candidate(r + 1, rounds, candidate, firstCandidates - r, module, score, done, total));
        }
    }
}
