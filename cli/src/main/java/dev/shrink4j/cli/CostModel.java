package dev.shrink4j.cli;

import dev.shrink4j.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The wall time of a compression run, from the model's shapes, the job's sizes and a {@link MachineProbe}:
 * each step's floating-point work (formulas below, per method), divided by the probed rate of the kernel
 * shape that dominates it (GEMM or matvec), times an efficiency that says how close that step's code comes
 * to the probe (fitted once on the demo and a TinyLlama-shaped checkpoint, docs/recipes.md "Dry run"), plus
 * the JVM's start-up as measured. No step is run.
 *
 * <p>Notation (docs/methods/rtn-gptq.md): L blocks; h hidden; f_l FFN width; q = heads·head_dim, kv the
 * key/value width; V vocabulary; N = samples·T calibration tokens. A block's linears: q, k, v (d_in = h),
 * o (d_in = q), gate, up (d_in = h), down (d_in = f_l); P_l = 3·h·f_l + 2·h·q + 2·h·kv weights.
 */
final class CostModel {
    /** One step of the run, in the order it runs, with its estimated seconds and the work it stands for. */
    record Step(String name, double seconds, String work) {}

    /**
     * What is being run, as the command line resolves it.
     *
     * @param method        quantize: rtn, gptq, squeezellm, lnq, guidedquant, guided-gptq, requant (its base in {@code base});
     *                      prune: magnitude, wanda, sparsegpt, 2ssp, width, depth; lowrank: svd, whitened-svd, asvd, lost, lost-whitened
     * @param calibration   "self", "random", a file name, or "none" (data-free)
     * @param samples       calibration sequences (0 when data-free)
     * @param seqLen        tokens per calibration sequence incl. BOS
     * @param evalWindows   windows scored per evaluation pass (0: no evaluation)
     * @param evalSeqLen    evaluation window incl. BOS
     * @param evalGenerated sequences generated for the evaluation text (0: a file)
     * @param guidedGroups  GuidedQuant's output-channel groups g (1 for the other methods)
     * @param bits          quantize: code width b (the LUT methods' k-means has 2^b centroids)
     */
    record Job(String command, String method, String base, String calibration, int samples, int seqLen,
               int evalWindows, int evalSeqLen, int evalGenerated, int guidedGroups, int bits) {}

    // Efficiencies: the fraction of the probed rate each step reaches. Fitted on the runs of docs/recipes.md
    // "Dry run" (the demo and a 4-block TinyLlama-shaped checkpoint, side by side with their dry runs);
    // they absorb what FLOPs do not count: sampling over the vocabulary, softmax, norms, copies, allocation.
    /** Batched decoding (self-generated calibration/evaluation text): GEMM rows = sequences, plus top-p sampling. */
    static final double DECODE_EFFICIENCY = 0.35;
    /**
     * Cold code: what a step costs besides its FLOPs on a quiet machine, in seconds — the JIT compiling the
     * step's code paths the first time, interpreted and C1 code meanwhile, per-call overheads that do not
     * scale with width. It dominates small models (the demo: 8 s quiet for ~0.1 s of FLOPs). Scaled by
     * {@link #slowdown}: cold code competes for the CPU like the JVM's own start-up, which the probe measured.
     */
    static final double COLD_FIRST_DECODE = 1.2, COLD_DECODE = 0.3, COLD_EVAL = 0.3, COLD_EVAL_AFTER = 0.6, COLD_WRITE = 0.1;
    /** Cold code of the quantize step (docs/recipes.md "Dry run": the demo's quantize takes 1–4 s quiet whatever its FLOPs). */
    static final double COLD_RTN = 0.3, COLD_GPTQ = 2.0, COLD_LUT = 3.0;
    /** The JVM's start-up to the dry run's probe on a quiet machine (2-core Zen 4: 0.35–0.45 s). */
    static final double QUIET_STARTUP_SECONDS = 0.4;
    /**
     * The probe's wait for the compiled GEMM on a quiet machine: an assumption (never measured quiet here: the
     * machine was loaded all session), chosen so that the demo's cold code under load (probe: ~10 s) comes out
     * as measured. The lead's quiet rerun (scripts/dryrun-check) is what checks it.
     */
    static final double QUIET_JIT_SECONDS = 0.5;
    /** Prefill-style forwards (evaluation windows, block forwards over the calibration). */
    static final double FORWARD_EFFICIENCY = 0.5;
    /** Hessian accumulation (Kernels.syrkUpper) against the GEMM probe. */
    static final double SYRK_EFFICIENCY = 0.7;
    /** GPTQ/SparseGPT sweeps, LNQ's blocked coordinate descent and fp64 factorizations against the F32 GEMM probe (fp64 is half the lanes). */
    static final double SOLVE_EFFICIENCY = 0.5;
    /** SqueezeLLM's k-means: streaming updates, against the streaming probe. */
    static final double SWEEP_EFFICIENCY = 0.5;
    /** Per-weight work (RTN, packing, writing): elementwise, against the matvec probe. */
    static final double ELEMENTWISE_EFFICIENCY = 0.25;

    /** RTN's per-weight work in streaming-probe FLOPs (fitted: 4- and 22-block TinyLlama-shaped runs, 60–100 ns per weight under load). */
    static final double RTN_OPS_PER_WEIGHT = 40;

    /** LNQ defaults (quantize.LnqOptions): T outer iterations, K coordinate-descent sweeps each. */
    static final int LNQ_ITERATIONS = 2, LNQ_SWEEPS = 4;
    /** SqueezeLLM's Lloyd steps (quantize.SqueezeLlm.MAX_ITERATIONS; most layers stop earlier: a typical 20). */
    static final int KMEANS_STEPS = 20;

    private final ModelConfig c;
    private final MachineProbe probe;
    private final long h, q, kv, vocab;

    CostModel(ModelConfig c, MachineProbe probe) {
        this.c = c;
        this.probe = probe;
        this.h = c.hiddenSize();
        this.q = c.qDim();
        this.kv = c.kvDim();
        this.vocab = c.vocabSize();
    }

    /** The run's steps in order, each with its estimate; the JVM's start-up first. */
    List<Step> steps(Job job) {
        List<Step> steps = new ArrayList<>();
        steps.add(new Step("start-up and load IN", probe.startupSeconds(), "JVM start-up as measured by this dry run; IN is memory-mapped"));
        boolean decoded = false;
        if (job.calibration().equals("self") && job.samples() > 0) {
            steps.add(decode("calibration", job.samples(), job.seqLen(), true));
            decoded = true;
        } else if (job.samples() > 0) {
            steps.add(new Step("calibration", 0, job.calibration() + ": " + job.samples() + " × " + job.seqLen() + " tokens, no model work"));
        }
        if (job.evalWindows() > 0) {
            if (job.evalGenerated() > 0) steps.add(decode("evaluation text", job.evalGenerated(), job.evalSeqLen(), !decoded));
            // eval before: one forward of IN; eval after: the output and IN again (KL needs both distributions).
            steps.add(forward("eval before", (long) job.evalWindows() * job.evalSeqLen(), job.evalSeqLen(), 1));
        }
        steps.add(switch (job.command()) {
            case "quantize" -> quantize(job);
            case "prune" -> prune(job);
            case "lowrank" -> lowrank(job);
            default -> throw new IllegalArgumentException(job.command());
        });
        // Writing: a pass over every weight (pack, CRC, copy), streaming.
        steps.add(new Step("write", seconds(8.0 * weights(), probe.matvecFlops() * ELEMENTWISE_EFFICIENCY) + cold(COLD_WRITE), "pack and checksum every weight"));
        if (job.evalWindows() > 0) steps.add(forward("eval after", (long) job.evalWindows() * job.evalSeqLen(), job.evalSeqLen(), 2));
        return steps;
    }

    /**
     * A recipe's evaluation (RunCommand.OutputScoring): the evaluation text (generated when no file is named),
     * IN scored once, then each output with IN beside it for the KL.
     */
    List<Step> evaluation(Job job, List<String> outputs) {
        List<Step> steps = new ArrayList<>();
        if (job.evalWindows() == 0) return steps;
        if (job.evalGenerated() > 0) steps.add(decode("evaluation text", job.evalGenerated(), job.evalSeqLen(), false));
        steps.add(forward("evaluate IN", (long) job.evalWindows() * job.evalSeqLen(), job.evalSeqLen(), 1));
        for (String o : outputs) steps.add(forward("evaluate output " + o, (long) job.evalWindows() * job.evalSeqLen(), job.evalSeqLen(), 2));
        return steps;
    }

    /**
     * Self-generation of {@code sequences} × (T − 1) tokens, batched (model.BatchGenerator): per token a
     * forward of one position through every linear and the head, 2·(Σ P_l + V·h), plus attention over the
     * cache, 4·q·t at position t (mean T/2).
     */
    private Step decode(String name, int sequences, int seqLen, boolean first) {
        double tokens = (double) sequences * (seqLen - 1);
        double flops = tokens * (2.0 * (blockWeights() + vocab * h) + 2.0 * q * c.numLayers() * seqLen);
        double rate = (sequences >= 8 ? probe.gemmFlops() : probe.matvecFlops()) * DECODE_EFFICIENCY;
        double s = seconds(flops, rate) + cold(first ? COLD_FIRST_DECODE : COLD_DECODE);
        return new Step(name, s, String.format(java.util.Locale.ROOT, "generate %d × %d tokens: %.3g FLOP batched decoding + cold code%s", sequences, seqLen - 1, flops,
                first ? " (first generation: JIT)" : ""));
    }

    /** {@code passes} forwards of {@code tokens} tokens in windows of T with the head: (2·(Σ P_l + V·h) + 2·q·L·T) per token. */
    private Step forward(String name, long tokens, int seqLen, int passes) {
        double flops = passes * (double) tokens * (2.0 * (blockWeights() + vocab * h) + 2.0 * q * c.numLayers() * seqLen);
        return new Step(name, seconds(flops, probe.gemmFlops() * FORWARD_EFFICIENCY) + cold(passes == 1 ? COLD_EVAL : COLD_EVAL_AFTER),
                String.format(java.util.Locale.ROOT, "%d forward%s of %d tokens: %.3g FLOP", passes, passes == 1 ? "" : "s", tokens, flops));
    }

    /**
     * quantize, block by block (model.BlockPipeline):
     * <ul>
     *   <li>rtn (data-free): {@link #RTN_OPS_PER_WEIGHT} streaming operations per weight (read and widen BF16, range,
     *       scale, round, pack);</li>
     *   <li>calibrated methods: per block two forwards of the N calibration tokens (inputs captured, then the
     *       quantized block's outputs for the next block), 2·2·N·P_l + attention 2·2·N·q·T;</li>
     *   <li>Hessians H = XᵀX, one SYRK per distinct input (q/k/v share theirs, gate/up too): N·d_in² each
     *       (upper triangle, FMA = 2 FLOP);</li>
     *   <li>gptq: per linear a damped Cholesky, its inverse and the inverse's Cholesky, ≈ d_in³ in fp64, and the
     *       column sweep with lazy-batch updates, d_out·d_in² (each column's error times the rest of its
     *       inverse-Hessian row, docs/methods/rtn-gptq.md §2);</li>
     *   <li>squeezellm, lnq, guidedquant, guided-gptq: first one gradient pass over the whole model,
     *       ≈ 3× a forward with the head (forward, backward for activations and weights), for the Fisher
     *       (squeezellm.md §1) or the output-group saliencies (guidedquant-lnq.md §2);</li>
     *   <li>guided methods: g weighted SYRKs per distinct input instead of one (one H̄_k per output group);</li>
     *   <li>squeezellm: weighted k-means per row, steps·d_out·d_in·2^b·3;</li>
     *   <li>lnq, guidedquant: SqueezeLLM's init, then T·(K + 1) passes of d_out·d_in² (K coordinate-descent
     *       sweeps and one C-step per iteration, guidedquant-lnq.md §5.3–5.4) and g factorizations d_in³/3;</li>
     *   <li>guided-gptq: GPTQ's solve per output group (g factorizations, sweeps over d_out/g rows each).</li>
     * </ul>
     */
    private Step quantize(Job job) {
        String m = job.method().equals("requant") ? job.base() : job.method();
        boolean dataFree = m.equals("rtn") && job.samples() == 0;
        double n = (double) job.samples() * job.seqLen();
        int g = Math.max(1, job.guidedGroups());
        int bits = job.bits();
        double forward = 0, syrk = 0, solve = 0, sweep = 0, elementwise = RTN_OPS_PER_WEIGHT * blockWeights(), gradient = 0;
        if (!dataFree) {
            boolean guided = m.equals("guidedquant") || m.equals("guided-gptq");
            if (!m.equals("rtn") && !m.equals("gptq")) gradient = 3 * n * (2.0 * (blockWeights() + vocab * h) + 2.0 * q * c.numLayers() * job.seqLen());
            for (int l = 0; l < c.numLayers(); l++) {
                forward += 2 * n * (2.0 * blockWeights(l) + (c.hasAttention(l) ? 2.0 * q * job.seqLen() : 0));
                int groups = guided ? g : 1;
                for (long dIn : distinctInputs(l)) syrk += groups * n * dIn * dIn;
                for (long[] lin : linears(l)) {
                    double dOut = lin[0], dIn = lin[1];
                    switch (m) {
                        case "gptq", "guided-gptq" -> solve += (m.equals("gptq") ? 1 : g) * dIn * dIn * dIn + dOut * dIn * dIn;
                        case "squeezellm" -> sweep += KMEANS_STEPS * dOut * dIn * (1 << bits) * 3.0;
                        case "lnq", "guidedquant" -> {
                            // LNQ's sweeps update the residual in column blocks (LnqOptions.blockSize): GEMM-shaped.
                            sweep += KMEANS_STEPS * dOut * dIn * (1 << bits) * 3.0;
                            solve += 2.0 * LNQ_ITERATIONS * (LNQ_SWEEPS + 1) * dOut * dIn * dIn + (m.equals("lnq") ? 1 : g) * dIn * dIn * dIn / 3;
                        }
                        default -> { } // rtn with --calib: only the forwards and H, for the layer objectives
                    }
                }
            }
        }
        double gemm = probe.gemmFlops(), mv = probe.matvecFlops();
        double s = seconds(gradient + forward, gemm * FORWARD_EFFICIENCY) + seconds(syrk, gemm * SYRK_EFFICIENCY)
                + seconds(solve, gemm * SOLVE_EFFICIENCY) + seconds(sweep, mv * SWEEP_EFFICIENCY) + seconds(elementwise, mv * ELEMENTWISE_EFFICIENCY)
                + cold(m.equals("rtn") ? COLD_RTN : m.equals("gptq") ? COLD_GPTQ : COLD_LUT);
        return new Step("quantize " + job.method(), s, String.format(java.util.Locale.ROOT,
                "%d blocks: gradient pass %.3g, block forwards %.3g, Hessian SYRKs %.3g, factorizations and sweeps %.3g (GEMM-shaped) + %.3g (streaming), per-weight %.3g FLOP",
                c.numLayers(), gradient, forward, syrk, solve, sweep, elementwise));
    }

    /**
     * prune: magnitude is per-weight work (a selection per matrix); wanda a block forward and input norms;
     * sparsegpt GPTQ's Hessians and sweeps (docs/methods/pruning.md); 2ssp, width and depth a few forwards
     * of the calibration through the model (docs/methods/2ssp.md: FFN norms, then one perplexity per
     * attention candidate ≈ L forwards). Not yet checked against measured runs.
     */
    private Step prune(Job job) {
        double n = (double) job.samples() * job.seqLen();
        double full = n * (2.0 * (blockWeights() + vocab * h) + 2.0 * q * c.numLayers() * job.seqLen());
        double flops = switch (job.method()) {
            case "magnitude" -> 0;
            case "2ssp", "depth" -> (c.numLayers() + 1) * full;
            case "width" -> full;
            default -> 2 * full;
        };
        double syrk = 0, solve = 0;
        if (job.method().equals("sparsegpt")) {
            for (int l = 0; l < c.numLayers(); l++) {
                for (long dIn : distinctInputs(l)) syrk += n * dIn * dIn;
                for (long[] lin : linears(l)) solve += (double) lin[1] * lin[1] * lin[1] + (double) lin[0] * lin[1] * lin[1];
            }
        }
        double gemm = probe.gemmFlops();
        double s = seconds(flops, gemm * FORWARD_EFFICIENCY) + seconds(syrk, gemm * SYRK_EFFICIENCY) + seconds(solve, gemm * SOLVE_EFFICIENCY)
                + seconds(30.0 * blockWeights(), probe.matvecFlops() * ELEMENTWISE_EFFICIENCY) + cold(COLD_GPTQ);
        return new Step("prune " + job.method(), s, String.format(java.util.Locale.ROOT, "forwards %.3g, Hessian SYRKs %.3g, solves %.3g FLOP (not yet checked against runs)", flops, syrk, solve));
    }

    /**
     * lowrank: per linear a full SVD of the (whitened or scaled) weight, ≈ 4·d_out·d_in·min + 8·min³
     * (Golub–Kahan bidiagonalization, then QR sweeps), plus for whitened methods a SYRK and a Cholesky
     * per distinct input and a block forward over the calibration. Not yet checked against measured runs.
     */
    private Step lowrank(Job job) {
        double n = (double) job.samples() * job.seqLen();
        boolean calibrated = job.samples() > 0;
        double svd = 0, syrk = 0, forward = 0;
        for (int l = 0; l < c.numLayers(); l++) {
            if (calibrated) {
                forward += 2 * n * 2.0 * blockWeights(l);
                for (long dIn : distinctInputs(l)) syrk += n * dIn * dIn + (double) dIn * dIn * dIn / 3;
            }
            for (long[] lin : linears(l)) {
                double mn = Math.min(lin[0], lin[1]);
                svd += 4.0 * lin[0] * lin[1] * mn + 8 * mn * mn * mn;
            }
        }
        double gemm = probe.gemmFlops();
        double s = seconds(forward, gemm * FORWARD_EFFICIENCY) + seconds(syrk, gemm * SYRK_EFFICIENCY) + seconds(svd, gemm * SOLVE_EFFICIENCY) + cold(COLD_GPTQ);
        return new Step("lowrank " + job.method(), s, String.format(java.util.Locale.ROOT, "SVDs %.3g, Hessians %.3g, forwards %.3g FLOP (not yet checked against runs)", svd, syrk, forward));
    }

    /**
     * How much slower cold code runs now than on a quiet machine: the probed start-up and JIT wait against
     * quiet ones, the larger (at least 1).
     */
    double slowdown() {
        return Math.max(1, Math.max(probe.startupSeconds() / QUIET_STARTUP_SECONDS, probe.jitSeconds() / QUIET_JIT_SECONDS));
    }

    private double cold(double quietSeconds) {
        return quietSeconds * slowdown();
    }

    private static double seconds(double flops, double rate) {
        return flops <= 0 ? 0 : flops / rate;
    }

    /** {d_out, d_in} of block l's linears (none for a removed attention). */
    List<long[]> linears(int l) {
        long f = c.intermediateSize(l);
        List<long[]> r = new ArrayList<>();
        if (c.hasAttention(l)) {
            r.add(new long[] {q, h});
            r.add(new long[] {kv, h});
            r.add(new long[] {kv, h});
            r.add(new long[] {h, q});
        }
        r.add(new long[] {f, h});
        r.add(new long[] {f, h});
        r.add(new long[] {h, f});
        return r;
    }

    /** d_in of each distinct linear input of block l: q/k/v share one, gate/up share one. */
    private List<Long> distinctInputs(int l) {
        return c.hasAttention(l) ? List.of(h, q, h, (long) c.intermediateSize(l)) : List.of(h, (long) c.intermediateSize(l));
    }

    private long blockWeights(int l) {
        long p = 0;
        for (long[] lin : linears(l)) p += lin[0] * lin[1];
        return p;
    }

    /** Σ P_l over the blocks. */
    long blockWeights() {
        long p = 0;
        for (int l = 0; l < c.numLayers(); l++) p += blockWeights(l);
        return p;
    }

    private long weights() {
        return blockWeights() + vocab * h * (c.tieWordEmbeddings() ? 1 : 2);
    }
}
