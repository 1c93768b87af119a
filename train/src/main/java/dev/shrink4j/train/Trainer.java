package dev.shrink4j.train;

import dev.shrink4j.model.Backprop;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Parallel;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training loop: for each step, a batch from {@link TokenBatches}, loss and gradients from the
 * model's backward pass ({@link Backprop}), global-norm clipping, AdamW ({@link AdamW}) at the
 * scheduled rate ({@link LrSchedule}); held-out loss every {@code evalEvery} steps; a checkpoint
 * ({@link TrainCheckpoint}) every {@code checkpointEvery} steps. Deterministic for a seed and a thread
 * count: everything a step reads is a function of (seed, step) and the state a checkpoint restores
 * bit for bit, so a run killed and resumed ends with the same weights as one left alone.
 */
public final class Trainer {
    /**
     * @param steps           optimizer steps
     * @param batch           sequences per step
     * @param seqLen          tokens per sequence, BOS included
     * @param schedule        the learning rate per step
     * @param adamw           optimizer settings
     * @param clip            global gradient-norm limit (0: none)
     * @param seed            data-order seed
     * @param evalEvery       held-out loss every this many steps (0: only at the end)
     * @param evalWindows     held-out windows scored each time (0: all)
     * @param checkpointEvery steps between checkpoints (0: none but the final model)
     * @param keep            checkpoints kept on disk (older ones deleted)
     */
    public record Options(long steps, int batch, int seqLen, LrSchedule schedule, AdamW adamw, double clip, long seed, int evalEvery,
                          int evalWindows, int checkpointEvery, int keep) {
        /** What must match for a resume: everything that changes the trajectory. */
        Map<String, Object> fingerprint(Parameterization p) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("steps", steps);
            m.put("batch", batch);
            m.put("seq_len", seqLen);
            m.put("lr", schedule.peak());
            m.put("warmup", schedule.warmup());
            m.put("min_lr_ratio", schedule.minRatio());
            m.put("betas", List.of(adamw.beta1(), adamw.beta2()));
            m.put("eps", adamw.eps());
            m.put("weight_decay", adamw.weightDecay());
            m.put("clip", clip);
            m.put("seed", seed);
            m.put("parameterization", p.cliName());
            m.put("threads", Parallel.threads());
            return m;
        }
    }

    /** Seen after every step; all figures of that step. */
    public record StepReport(long step, long steps, long tokens, double loss, double lr, double gradNorm, double stepSeconds,
                             double backpropSeconds, double optimizerSeconds, double elapsedSeconds, double cpuSeconds) {}

    public interface Listener {
        default void step(StepReport r) {}

        default void heldOut(long step, long tokens, double nll) {}

        default void checkpoint(long step, Path dir) {}
    }

    /** The end of a run: the final model's directory and the state it was written with. */
    public record Result(Path model, TrainCheckpoint.State state, TrainableModel trained) {}

    private final Options options;
    private final Parameterization parameterization;

    public Trainer(Options options, Parameterization parameterization) {
        this.options = options;
        this.parameterization = parameterization;
    }

    /**
     * Trains {@code start} (fresh) or continues {@code resume} (nullable) and writes
     * {@code out/checkpoint-<step>} and finally {@code out/model}.
     *
     * @param train   training token stream (no BOS)
     * @param heldOut held-out token stream (no BOS), scored by the evaluation protocol
     */
    public Result run(TrainableModel start, TrainCheckpoint.Restored resume, int[] train, int[] heldOut, Path out, Path tokenizerDir,
                      Listener listener) {
        // As JSON stores it (numbers read back as Long/Double), so a resumed run compares like with like.
        @SuppressWarnings("unchecked")
        Map<String, Object> fingerprint = (Map<String, Object>) Json.parse(Json.write(options.fingerprint(parameterization), 0));
        TrainableModel model;
        Map<String, float[][]> moments;
        long step;
        long tokens;
        double before;
        List<Map<String, Object>> history;
        if (resume != null) {
            if (!fingerprint.equals(resume.state().options())) {
                throw new ShrinkException("cannot resume: the checkpoint was trained with " + resume.state().options() + ", this run asks for " + fingerprint);
            }
            model = resume.model();
            moments = resume.moments();
            step = resume.state().step();
            tokens = resume.state().tokens();
            before = resume.state().seconds();
            history = new ArrayList<>(resume.state().history());
        } else {
            model = start;
            moments = new LinkedHashMap<>();
            for (String n : model.names()) {
                int len = model.parameters().get(n).length;
                moments.put(n, new float[][] {new float[len], new float[len]});
            }
            step = 0;
            tokens = 0;
            before = 0;
            history = new ArrayList<>();
        }
        int bos = model.config().bosTokenId();
        TokenBatches batches = new TokenBatches(train, options.batch(), options.seqLen(), bos, options.seed());
        Backprop backprop = new Backprop(model.model());
        long t0 = System.nanoTime();
        while (step < options.steps()) {
            long s0 = System.nanoTime();
            long c0 = cpuNanos();
            int[] batch = batches.step(step + 1);
            Map<String, float[]> grads = new LinkedHashMap<>();
            double loss = backprop.run(batch, options.batch(), model.gradients(grads));
            long s1 = System.nanoTime();
            double norm = globalNorm(model, grads);
            double scale = options.clip() > 0 && norm > options.clip() ? options.clip() / norm : 1;
            double lr = options.schedule().at(step + 1);
            for (String n : model.names()) {
                float[] g = grads.get(n);
                if (g == null) throw new IllegalStateException("no gradient for " + n);
                if (scale != 1) for (int i = 0; i < g.length; i++) g[i] *= (float) scale;
                float[][] mv = moments.get(n);
                options.adamw().step(model.parameters().get(n), g, mv[0], mv[1], lr, step + 1, model.decays(n));
            }
            model.syncNorms();
            long s2 = System.nanoTime();
            step++;
            tokens += batch.length;
            double elapsed = before + (s2 - t0) / 1e9;
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("step", step);
            h.put("tokens", tokens);
            h.put("loss", loss);
            h.put("lr", lr);
            h.put("grad_norm", norm);
            h.put("seconds", elapsed);
            listener.step(new StepReport(step, options.steps(), tokens, loss, lr, norm, (s2 - s0) / 1e9, (s1 - s0) / 1e9, (s2 - s1) / 1e9, elapsed,
                    (cpuNanos() - c0) / 1e9));
            boolean last = step == options.steps();
            if (last || options.evalEvery() > 0 && step % options.evalEvery() == 0) {
                double nll = heldOutLoss(model, heldOut);
                h.put("heldout_nll", nll);
                listener.heldOut(step, tokens, nll);
            }
            history.add(h);
            if (!last && options.checkpointEvery() > 0 && step % options.checkpointEvery() == 0) {
                TrainCheckpoint.State state = new TrainCheckpoint.State(step, tokens, elapsed, fingerprint, history);
                Path dir = TrainCheckpoint.write(out.resolve("checkpoint-" + step), model, moments, state, tokenizerDir, DType.F32);
                prune(out, options.keep());
                listener.checkpoint(step, dir);
            }
        }
        TrainCheckpoint.State state = new TrainCheckpoint.State(step, tokens, before + (System.nanoTime() - t0) / 1e9, fingerprint, history);
        Path dir = TrainCheckpoint.write(out.resolve("model"), model, null, state, tokenizerDir, DType.F32);
        return new Result(dir, state, model);
    }

    /**
     * CPU time of the whole process (all threads, JIT and GC included), or 0 where the JVM cannot tell:
     * on a shared machine it measures the work of a step where wall time measures the queue.
     */
    static long cpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? Math.max(0, os.getProcessCpuTime()) : 0;
    }

    /** The evaluation protocol's mean NLL over the first {@code evalWindows} held-out windows. */
    public double heldOutLoss(TrainableModel model, int[] heldOut) {
        return Perplexity.evaluate(model.model(), heldOut, options.seqLen(), options.evalWindows(), null).nll();
    }

    /** ‖g‖₂ over every tensor, in double and in the model's fixed order (the same bits for any thread count). */
    static double globalNorm(TrainableModel model, Map<String, float[]> grads) {
        double ss = 0;
        for (String n : model.names()) {
            float[] g = grads.get(n);
            if (g == null) continue;
            for (float v : g) ss += (double) v * v;
        }
        return Math.sqrt(ss);
    }

    /** Deletes all but the newest {@code keep} checkpoints. */
    private static void prune(Path out, int keep) {
        try (var s = Files.list(out)) {
            List<Path> ckpts = s.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+"))
                    .sorted(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring("checkpoint-".length()))))
                    .toList();
            for (int i = 0; i < ckpts.size() - Math.max(1, keep); i++) deleteTree(ckpts.get(i));
        } catch (IOException e) {
            throw new ShrinkException(out + ": " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        try (var w = Files.walk(p)) {
            for (Path q : w.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
