package dev.shrink4j.cli;

import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.model.SelfCalibration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.ParseException;

/**
 * The JVM heap a command needs, estimated from the model's shapes and the calibration size, so the
 * launcher can start the JVM with {@code -Xmx} sized to the job (as Elasticsearch's launcher computes
 * its heap before starting). Why: a JVM grows its heap towards the maximum (a quarter of RAM by default)
 * whenever large arrays churn — every block allocates d_in² fp64 Hessians — so without a bound the
 * process holds several GB it does not need (measured: a TinyLlama-shaped GPTQ run peaked at 3.8 GB
 * RssAnon with the default heap, 1.1 GB with a 1 GB heap, same speed).
 *
 * <p>The estimate is the live set of the block-by-block pipeline (docs/DESIGN.md, memory): a fixed base,
 * the calibration activations (tokens × hidden F32), the larger of one forward pass's temporaries and
 * the method's per-layer working set (Hessians and factorizations in fp64, d = the largest d_in), plus
 * the whole-model gradient statistics of gradient-based methods (one F32 per weight). It errs high;
 * memory-mapped weights are not heap and are not counted.
 *
 * <p>Used by the {@code shrink4j} launcher as {@code java -cp shrink4j.jar dev.shrink4j.cli.HeapPlan
 * ARGS...}: prints {@code -Xmx<N>m}, or nothing when it cannot tell (then the JVM default applies).
 */
public final class HeapPlan {
    static final long MIB = 1L << 20;
    /** JVM-internal heap, tokenizer, small arrays, reports. */
    static final long BASE = 384 * MIB;
    /** Calibration tokens per forward pass (BlockPipeline.Options.rowsPerPass). */
    static final int ROWS_PER_PASS = 2048;

    private HeapPlan() {}

    public static void main(String[] args) {
        try {
            long bytes = estimate(List.of(args));
            if (bytes > 0) System.out.println("-Xmx" + Math.ceilDiv(bytes, MIB) + "m");
        } catch (RuntimeException e) {
            // No plan: the launcher then leaves the JVM's default heap.
        }
    }

    /** JVM memory outside the heap and the activations: metaspace, code cache, thread stacks, GC structures. */
    static final long JVM_OVERHEAD = 160 * MIB;
    /**
     * Of {@link #BASE}, what a run keeps in use: small tensors, tokenizer, reports, class data; more when it
     * generates or evaluates text (per-token logits, KV caches, sampling buffers churn the young generation).
     * Measured: a data-free RTN without evaluation of a 4-block TinyLlama-shaped model peaked at 240 MiB
     * RssAnon, the demo's runs with self-calibration and evaluation at 390–455 MiB whatever the method.
     */
    static final long BASE_IN_USE = 32 * MIB, BASE_IN_USE_WITH_TEXT = 128 * MIB;
    /** Heap in use over the live set: the garbage G1 lets accumulate between collections (fitted, docs/recipes.md "Dry run"). */
    static final double HEAP_CHURN = 2.0;

    /**
     * What a run needs, in the parts a user can act on. {@code heap} is the -Xmx the launcher passes;
     * {@code activations} what is off the heap but anonymous: the block pipeline's calibration activations
     * (samples × T × hidden F32), requant's compressed model, pqi's accumulators without {@code --scratch}.
     * {@link #total} is the anonymous memory (RssAnon) the run may reach: what {@code --max-memory} bounds.
     */
    record Plan(long base, long activations, long work, long statistics, long heap, long expectedLive) {
        static final Plan NONE = new Plan(0, 0, 0, 0, 0, 0);

        long total() {
            return heap == 0 ? 0 : heap + activations + JVM_OVERHEAD;
        }

        /**
         * The RssAnon a run is expected to peak at (the dry run's figure), as opposed to {@link #total}, the bound
         * {@code --max-memory} checks: a JVM seldom fills its whole -Xmx. The heap's share is the expected live
         * set times {@link #HEAP_CHURN} (the garbage G1 lets accumulate between collections), at most the heap;
         * then the off-heap activations and the JVM's own. Fitted on the runs of docs/recipes.md "Dry run".
         */
        long expectedPeak() {
            if (heap == 0) return 0;
            return Math.min(heap, (long) (HEAP_CHURN * expectedLive)) + activations + JVM_OVERHEAD;
        }

        /** The parts of {@link #expectedPeak}. */
        String describeExpected() {
            return String.format(java.util.Locale.ROOT, "heap in use %s of -Xmx %s (live set %s), off-heap %s, JVM %s",
                    InspectCommand.human(expectedPeak() - activations - JVM_OVERHEAD), InspectCommand.human(heap), InspectCommand.human(expectedLive),
                    InspectCommand.human(activations),
                    InspectCommand.human(JVM_OVERHEAD));
        }

        /** "about 1.4 GiB: calibration activations 512 MiB (off-heap), …" */
        String describe() {
            return String.format(java.util.Locale.ROOT,
                    "about %s: off-heap %s (calibration activations, samples × seq-len × hidden; requant's compressed model; pqi's accumulators without --scratch), per-layer working set %s, gradient statistics %s, base heap %s, JVM %s",
                    InspectCommand.human(total()), InspectCommand.human(activations), InspectCommand.human(work), InspectCommand.human(statistics),
                    InspectCommand.human(base), InspectCommand.human(JVM_OVERHEAD));
        }
    }

    /** Heap bytes for {@code shrink4j ARGS...}, or 0 when the command needs no plan or its arguments are off. */
    static long estimate(List<String> args) {
        if (args.isEmpty()) return 0;
        Command command = Main.command(args.get(0));
        if (command == null) return 0;
        CommandLine cl;
        try {
            // The command's own parser: the same options and --name=value forms as the run.
            cl = Main.parser().parse(Main.optionsOf(command), args.subList(1, args.size()).toArray(String[]::new));
        } catch (ParseException e) {
            return 0; // the run itself reports the usage error
        }
        return plan(command.name(), cl).heap();
    }

    /** The plan for a parsed command line, or {@link Plan#NONE} when the command needs none or IN has no config. */
    static Plan plan(String commandName, CommandLine cl) {
        String input = commandName.equals("sparsity") || commandName.equals("pqi") ? cl.getOptionValue("model")
                : cl.getArgList().isEmpty() ? null : cl.getArgList().get(0);
        if (input == null || !Files.isRegularFile(Path.of(input).resolve("config.json"))) return Plan.NONE;
        ModelConfig c = ModelConfig.load(Path.of(input));
        long h = c.hiddenSize(), f = 0, params = 0, block = 0;
        for (int l = 0; l < c.numLayers(); l++) {
            long fl = c.intermediateSize(l);
            f = Math.max(f, fl);
            long b = 3 * h * fl + 2 * h * c.qDim() + 2 * h * c.kvDim();
            block = Math.max(block, b);
            params += b;
        }
        long d = Math.max(h, f);
        long seqLen = Long.parseLong(cl.getOptionValue("seq-len", Integer.toString(c.defaultSeqLen())));
        long samples;
        long work; // the method's largest per-layer working set
        boolean gradients = false;
        long pathOffHeap = 0; // pqi and requant: what lives off the heap besides the calibration activations
        switch (commandName) {
            case "quantize" -> {
                String m = cl.getOptionValue("method", "guidedquant");
                boolean requant = m.equals("requant");
                if (requant) m = cl.getOptionValue("base", "squeezellm"); // its base's working set and statistics, and a PQI pass
                boolean dataFree = m.equals("rtn") && !cl.hasOption("calib") && !requant; // no calibration, no activations
                samples = dataFree ? 0 : Long.parseLong(cl.getOptionValue("samples", Integer.toString(QuantizeCommand.DEFAULT_SAMPLES)));
                int groups = Integer.parseInt(cl.getOptionValue("guided-groups", "4"));
                gradients = !m.equals("rtn") && !m.equals("gptq");
                // H̄_k of every member of the group being compressed (q,k,v share an input; down alone has d_in = f), each an
                // InputStatistics: the fp64 sum and an fp32 chunk, 12 bytes per entry (measured: 8 ran a 4-block
                // TinyLlama-shaped guidedquant out of its heap).
                long guided = 12L * groups * Math.max(3 * h * h, f * f);
                work = switch (m) {
                    case "rtn" -> 3 * 4 * d * h; // W, Ŵ and codes of one linear
                    // H and its factor in fp64, U / H in fp32; and the largest linear's W, its transposed
                    // working copy and its codes (4 + 4 + 1 bytes a weight). A Llama-2-7B-shaped down_proj
                    // (d_in 11008, d_out 4096): 969 + 969 + 485 MB + 406 MB; 20·d² alone ran out of heap.
                    case "gptq", "squeezellm", "lnq" -> 20 * d * d + 9 * h * f;
                    // guidedquant, guided-gptq: the H̄_k, then LNQ's fp64 copy of one H̄_k, its factor and an fp32 copy, and
                    // room for G1 to place them (each a humongous object): measured, a 4-block TinyLlama-shaped guidedquant
                    // run ran out of a heap planned with 12·d² here (docs/recipes.md "Dry run").
                    default -> guided + 24 * d * d;
                };
                if (requant) {
                    // Its Fisher and PQI buffers are mapped beside OUT (page cache); every compressed linear stays in
                    // memory until the detach steps are done: the payload, scales and codebooks, and the CSR.
                    long bits = Long.parseLong(cl.getOptionValue("bits", "3"));
                    work = Math.max(work, pathWork(c, h, f, block, seqLen));
                    pathOffHeap = params * (bits + 1) / 8 + params / 10;
                }
            }
            case "pqi" -> {
                samples = Long.parseLong(cl.getOptionValue("samples", Integer.toString(PqiCommand.DEFAULT_SAMPLES)));
                work = pathWork(c, h, f, block, seqLen);
                // The two weight-shaped F32 accumulators: page cache with --scratch, anonymous memory without.
                pathOffHeap = cl.hasOption("scratch") ? 0 : 8 * params;
            }
            case "prune", "lowrank" -> {
                // LowrankCommand's default, and the largest of PruneCommand's (which depends on the method).
                samples = Long.parseLong(cl.getOptionValue("samples", Integer.toString(LowrankCommand.DEFAULT_SAMPLES)));
                work = 20 * d * d;
            }
            case "sparsity" -> {
                samples = 32; // evaluation windows held at once, a stand-in: the sweep has no --samples
                work = 20 * d * d;
            }
            default -> {
                return Plan.NONE;
            }
        }
        long tokens = samples * seqLen;
        // The block pipeline keeps the calibration activations off-heap (model.Activations, an FFM arena that
        // neither -Xmx nor MaxDirectMemorySize limits); only 2SSP's stage 1 and depth pruning hold theirs on
        // the heap, a batch of at most 8 sequences at a time.
        String method = cl.getOptionValue("method", "");
        boolean structured = commandName.equals("prune") && List.of("2ssp", "width", "depth").contains(method);
        long activations = structured ? 4 * Math.min(samples, 8) * seqLen * (h + f) : commandName.equals("sparsity") ? 4 * tokens * h : 0;
        long pass = 4 * Math.min(tokens, ROWS_PER_PASS) * (6 * h + 3 * f);
        long statistics = gradients ? 4 * params + 4L * tokens * 8 : 0;
        // The pipeline's Z (samples × T × hidden F32) in an FFM arena: not heap, but RssAnon all the same.
        long offHeap = structured || commandName.equals("sparsity") || commandName.equals("pqi") ? 0 : 4 * tokens * h;
        // Self-calibration (the default) holds its KV caches on the heap while generating, before any block is
        // worked on: the heap needs the larger of the two phases.
        long kv = 0;
        if (samples > 0 && cl.getOptionValue("calib", "self").equals("self")) {
            boolean chosen = cl.hasOption("samples") || cl.hasOption("seq-len");
            SelfCalibration.Size size = SelfCalibration.of(c, SelfCalibration.parameters(c), (int) samples, (int) seqLen, chosen);
            kv = SelfCalibration.cacheBytes(c, size);
            if (!chosen) offHeap = structured || commandName.equals("sparsity") ? 0 : 4 * size.tokens() * h;
        }
        // A forward pass's temporaries are gone when the method works on the layer: the larger counts.
        long heap = BASE + Math.max(kv, activations + Math.max(pass, work) + statistics);
        // Expected live set: RTN without calibration streams its rows (no per-layer working set to speak of).
        boolean text = samples > 0 && cl.getOptionValue("calib", "self").equals("self") || !cl.hasOption("no-eval");
        boolean streamsRows = commandName.equals("quantize") && cl.getOptionValue("method", "guidedquant").equals("rtn") && samples == 0;
        long live = (text ? BASE_IN_USE_WITH_TEXT : BASE_IN_USE) + activations + (streamsRows ? 0 : Math.max(pass, work)) + statistics;
        return new Plan(BASE + activations, offHeap + pathOffHeap, Math.max(pass, work), statistics, heap, live);
    }

    /**
     * The heap of a gradient pass along the PQI path (quantize.Pqi, ReQuant's detach steps and allocation),
     * one sequence of T tokens at a time (batch 1, block recomputation): the saved block inputs, one block's
     * forward and backward temporaries with its attention scores, the logits and their gradient, one block's
     * weight gradients, and a few copies of the largest linear (W, W̃ − W, ḡ; the detach step's scores and
     * masks); or, between passes, the allocation's proxy on the largest linear (W, its Fisher, the ranking,
     * W without outliers, the proxy's codes and D).
     */
    private static long pathWork(ModelConfig c, long h, long f, long block, long seqLen) {
        long largest = Math.max(h * f, h * c.qDim());
        long pass = 4 * seqLen * (c.numLayers() * h + 8 * h + 4 * f) + 4 * seqLen * seqLen * c.numHeads() + 8 * seqLen * c.vocabSize()
                + 4 * block + 12 * largest;
        return Math.max(pass, 28 * largest); // the allocation's proxy runs between passes, not during one
    }
}
