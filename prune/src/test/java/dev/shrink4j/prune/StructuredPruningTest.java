package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.prune.StructuredPruning.Candidate;
import dev.shrink4j.prune.StructuredPruning.Kind;
import dev.shrink4j.prune.StructuredPruning.Plan;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.io.CheckpointWriter;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library entry point on the demo model: golden choices, the progress it reports, the checkpoint it writes. */
class StructuredPruningTest {
    private static final int T = 32;
    private static final int SAMPLES = 3;
    /** Sums of T − 1 fp64 NLLs in another order: a few ulps of the mean. */
    private static final double SUM_ORDER_TOL = 1e-12;

    /** Records every callback. */
    private static final class Recorder implements StructuredPruning.Listener {
        final List<Plan> plans = new ArrayList<>();
        final List<Integer> scored = new ArrayList<>();
        final List<Candidate> candidates = new ArrayList<>();

        @Override public void planned(Plan plan) {
            plans.add(plan);
        }

        @Override public void neuronsScored(int done, int total) {
            assertEquals(SAMPLES, total);
            scored.add(done);
        }

        @Override public void candidateScored(Candidate c) {
            candidates.add(c);
        }
    }

    private static int[][] calibration(LlamaModel model) {
        int[] t = DemoText.tokens(model, SAMPLES * T);
        int[][] seqs = new int[SAMPLES][];
        for (int i = 0; i < SAMPLES; i++) {
            seqs[i] = DemoText.slice(t, i * T, (i + 1) * T);
        }
        return seqs;
    }

    @Test
    void twoSspOnTheDemoModel(@TempDir Path tmp) {
        Path out = tmp.resolve("2ssp");
        Recorder rec = new Recorder();
        StructuredPruning.Result r;
        double inMemory;
        int[] eval;
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            r = StructuredPruning.run(model, calibration(model), Kind.TWO_SSP, 0.5, rec, arena);
            eval = DemoText.windows(model, 2, T);
            inMemory = CalibrationNll.mean(model, eval, 2, T, Set.of());
            try (CheckpointWriter w = CheckpointWriter.create(out, CheckpointWriter.Options.defaults())) {
                StructuredPruning.write(model, r, w, Map.of("method", "2ssp"));
                PrunedCheckpoint.copySideFiles(TestData.demoModel(), w);
                w.commit();
            }
        }
        assertEquals(66, r.keptNeurons());
        assertEquals(172, r.intermediateSize());
        assertEquals(List.of(0), r.attentionRemoved());
        assertEquals(List.of(), r.blocksRemoved());
        assertEquals(List.of(0, 1, 2, 3, 4), r.blocksKept());
        assertEquals(227200, r.mainParamsBefore());
        // P_main − N_attn·(P_attn + h) − L·(d_ff − k)·3h: the input norm goes with the attention
        assertEquals(227200 - (12288 + 64) - 5L * (172 - 66) * 3 * 64, r.mainParamsAfter());
        assertEquals(1 - 113088.0 / 227200, r.achievedSparsity(), 1e-15);
        assertEquals(r.balance().formulaSparsity(), r.formulaSparsity(), 0.0);
        assertEquals(1, r.calibrationPerplexity().size());

        assertEquals(List.of(new Plan(Kind.TWO_SSP, 66, 172, 1)), rec.plans);
        assertEquals(List.of(3), rec.scored); // one pass: the 3 samples fit in a batch of SCORING_BATCH
        assertEquals(5, rec.candidates.size()); // one round over 5 attention submodules
        Candidate last = rec.candidates.get(4);
        assertEquals(new Candidate(1, 1, 5, 5, 4, last.perplexity(), 5, 5), last);
        assertEquals(r.calibrationPerplexity().get(0), rec.candidates.stream().mapToDouble(Candidate::perplexity).min().orElseThrow(), 0.0);

        try (Arena arena = Arena.ofShared()) {
            LlamaModel back = LlamaModel.load(out, arena);
            assertEquals(66, back.config().intermediateSize(0));
            assertEquals(r.attentionRemoved().get(0), back.config().attentionRemoved().nextSetBit(0));
            assertFalse(back.weights().contains("model.layers." + r.attentionRemoved().get(0) + ".self_attn.q_proj.weight"));
            assertEquals(inMemory, CalibrationNll.mean(back, eval, 2, T, Set.of()), 0.0);
        }
    }

    @Test
    void widthAndDepthBaselines() {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            StructuredPruning.Result d = StructuredPruning.run(model, calibration(model), Kind.DEPTH, 0.375, StructuredPruning.Listener.NONE, arena);
            assertEquals(List.of(2, 4), d.blocksRemoved());
            assertEquals(3, d.blocksKept().size());
            assertTrue(Double.isNaN(d.formulaSparsity()));
            assertEquals(List.of(0, 1, 3), d.blocksKept());
            assertEquals(0.4, d.achievedSparsity(), 1e-15); // 2 of 5 equal blocks

            Recorder rec = new Recorder();
            StructuredPruning.Result w = StructuredPruning.run(model, calibration(model), Kind.WIDTH, 0.5, rec, arena);
            // 2SSP at 0.5 removes 114 048 parameters; 5 blocks × 192 per neuron → 118.8 neurons each → keep 53
            assertEquals(53, w.keptNeurons());
            assertEquals(List.of(), w.attentionRemoved());
            assertEquals(List.of(), rec.candidates);
            assertEquals(5.0 * (172 - 53) * 192 / 227200, w.achievedSparsity(), 1e-15);
            assertEquals(List.of(3), rec.scored);
        }
    }

    @Test
    void stageOneReportsEveryPass() {
        int n = StructuredPruning.SCORING_BATCH + 2;
        int len = 16;
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            int[] t = DemoText.tokens(model, n * len);
            int[][] seqs = new int[n][];
            for (int i = 0; i < n; i++) {
                seqs[i] = DemoText.slice(t, i * len, (i + 1) * len);
            }
            List<int[]> seen = new ArrayList<>();
            StructuredPruning.run(model, seqs, Kind.WIDTH, 0.5, new StructuredPruning.Listener() {
                @Override public void neuronsScored(int done, int total) {
                    seen.add(new int[] {done, total});
                }
            }, arena);
            assertEquals(List.of(List.of(StructuredPruning.SCORING_BATCH, n), List.of(n, n)),
                    seen.stream().map(a -> List.of(a[0], a[1])).toList());
        }
    }

    @Test
    void aBf16InputIsWrittenInBf16(@TempDir Path tmp) throws java.io.IOException {
        // stage 1's rewritten layers are F32 in memory; the output keeps the source's 16-bit dtype
        Path bf16 = tmp.resolve("bf16");
        Path out = tmp.resolve("width");
        try (Arena arena = Arena.ofShared(); CheckpointWriter w = CheckpointWriter.create(bf16, CheckpointWriter.Options.defaults())) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            for (String name : new java.util.TreeSet<>(model.weights().names())) {
                Tensor t = model.weights().tensor(name);
                w.add(name, t.dtype() == DType.F32 ? t.convert(arena, DType.BF16) : t);
            }
            w.copyFile(TestData.demoModel().resolve("config.json"));
            PrunedCheckpoint.copySideFiles(TestData.demoModel(), w);
            w.commit();
        }
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(bf16, arena);
            StructuredPruning.Result r = StructuredPruning.run(model, calibration(model), Kind.WIDTH, 0.5, StructuredPruning.Listener.NONE, arena);
            try (CheckpointWriter w = CheckpointWriter.create(out, CheckpointWriter.Options.defaults())) {
                StructuredPruning.write(model, r, w, Map.of("method", "width"));
                w.commit();
            }
        }
        try (Arena arena = Arena.ofShared()) {
            LlamaModel back = LlamaModel.load(out, arena);
            assertEquals(DType.BF16, back.weights().tensor("model.layers.0.mlp.gate_proj.weight").dtype());
            assertEquals(DType.BF16, back.weights().tensor("model.layers.0.post_attention_layernorm.weight").dtype());
        }
        assertTrue(java.nio.file.Files.size(out.resolve("model.safetensors")) < java.nio.file.Files.size(bf16.resolve("model.safetensors")));
    }

    @Test
    void calibrationNllIsTheSameOverSeveralPasses() {
        // 130 sequences of 32 tokens take two passes of 4096 rows; each sequence has T − 1 predictions,
        // so the mean over all is the mean of the per-sequence means
        int n = 130;
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            int[] tokens = DemoText.windows(model, n, T);
            double all = CalibrationNll.mean(model, tokens, n, T, Set.of(1));
            double sum = 0;
            for (int s = 0; s < n; s++) {
                sum += CalibrationNll.mean(model, DemoText.slice(tokens, s * T, (s + 1) * T), 1, T, Set.of(1));
            }
            assertEquals(sum / n, all, SUM_ORDER_TOL * all);
        }
    }
}
