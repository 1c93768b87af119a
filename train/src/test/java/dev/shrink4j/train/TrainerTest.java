package dev.shrink4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.tensors.ShrinkException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    /** "Near zero": the tiny model must memorise a 64-token text to below this mean NLL (uniform is ln 16 = 2.77). */
    private static final double MEMORISED_NLL = 0.05;

    @TempDir Path dir;

    static Map<String, Object> tinyConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("LlamaForCausalLM"));
        c.put("model_type", "llama");
        c.put("hidden_size", 32);
        c.put("intermediate_size", 64);
        c.put("num_hidden_layers", 1);
        c.put("num_attention_heads", 2);
        c.put("num_key_value_heads", 1);
        c.put("head_dim", 16);
        c.put("vocab_size", 16);
        c.put("max_position_embeddings", 128);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("tie_word_embeddings", false);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        return c;
    }

    private static int[] text(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = 3 + r.nextInt(13);
        return t;
    }

    private static Trainer.Options options(long steps, int batch, int seqLen, double lr, int ckptEvery) {
        return new Trainer.Options(steps, batch, seqLen, new LrSchedule(lr, 2, steps, 0.1), AdamW.defaults(), 1.0, 3, 0, 0, ckptEvery, 2);
    }

    @Test
    void tinyModelMemorisesA64TokenText() {
        int[] text = text(64, 11);
        // One sequence: BOS + the 64 tokens, every step the whole text (window = stream length).
        Trainer t = new Trainer(options(150, 1, 65, 1e-2, 0), Parameterization.DENSE);
        Trainer.Result r = t.run(Initialization.random(tinyConfig(), 5, Initialization.Factoring.dense()), null, text, text, dir.resolve("o"), null,
                new Trainer.Listener() {});
        double nll = Perplexity.evaluate(r.trained().model(), text, 65, 0, null).nll();
        assertTrue(nll < MEMORISED_NLL, "held-out NLL " + nll);
        assertTrue(Files.isRegularFile(r.model().resolve("config.json")));
        // The final model is an ordinary checkpoint: load it and score the text the same way.
        try (Arena arena = Arena.ofShared()) {
            LlamaModel loaded = LlamaModel.load(r.model(), arena);
            assertEquals(nll, Perplexity.evaluate(loaded, text, 65, 0, null).nll(), 1e-6);
        }
    }

    @Test
    void resumedRunEndsWithTheUninterruptedRunsWeightsBitForBit() {
        for (Parameterization p : Parameterization.values()) {
            Initialization.Factoring f = new Initialization.Factoring(p, 0.75, 0.1, 0.5);
            int[] text = text(400, 12);
            Trainer.Options o = options(6, 2, 17, 3e-3, 2);
            Trainer.Result whole = new Trainer(o, p).run(Initialization.random(tinyConfig(), 9, f), null, text, text, dir.resolve(p + "-a"), null,
                    new Trainer.Listener() {});
            // The crash: the process dies in step 5, after checkpoint-4 was committed.
            Path out = dir.resolve(p + "-b");
            RuntimeException crash = new RuntimeException("killed");
            assertThrows(RuntimeException.class, () -> new Trainer(o, p).run(Initialization.random(tinyConfig(), 9, f), null, text, text, out, null,
                    new Trainer.Listener() {
                        @Override
                        public void step(Trainer.StepReport r) {
                            if (r.step() == 5) throw crash;
                        }
                    }));
            Path latest = TrainCheckpoint.latest(out);
            assertEquals("checkpoint-4", latest.getFileName().toString());
            Trainer.Result resumed = new Trainer(o, p).run(null, TrainCheckpoint.read(latest), text, text, out, null, new Trainer.Listener() {});
            assertEquals(whole.trained().names(), resumed.trained().names());
            for (String n : whole.trained().names()) {
                assertArrayEquals(whole.trained().parameters().get(n), resumed.trained().parameters().get(n), 0f, p + " " + n);
            }
            assertEquals(whole.state().history().get(5).get("loss"), resumed.state().history().get(5).get("loss"));
        }
    }

    /** The saved factored models run in {@code eval}'s loader (LOST through the lost_silu format) as they did in training. */
    @Test
    void factoredModelsAreSavedInFormatsTheRuntimeLoads() {
        int[] text = text(300, 4);
        for (Parameterization p : List.of(Parameterization.LOST, Parameterization.LOWRANK)) {
            Initialization.Factoring f = new Initialization.Factoring(p, 0.5, 0.1, 0.5);
            Trainer.Result r = new Trainer(options(3, 2, 17, 3e-3, 0), p).run(Initialization.random(tinyConfig(), 2, f), null, text, text,
                    dir.resolve("save-" + p), null, new Trainer.Listener() {});
            double trained = Perplexity.evaluate(r.trained().model(), text, 17, 0, null).nll();
            try (Arena arena = Arena.ofShared()) {
                LlamaModel loaded = LlamaModel.load(r.model(), arena);
                assertTrue(loaded.isCompressed());
                assertEquals(trained, Perplexity.evaluate(loaded, text, 17, 0, null).nll(), 1e-5, p.toString());
            }
        }
    }

    @Test
    void lostAndLowRankMeetTheirParameterBudgets() {
        Map<String, Object> c = tinyConfig();
        TrainableModel dense = Initialization.random(c, 1, Initialization.Factoring.dense());
        TrainableModel lost = Initialization.random(c, 1, new Initialization.Factoring(Parameterization.LOST, 0.5, 0.05, 0.5));
        TrainableModel low = Initialization.random(c, 1, new Initialization.Factoring(Parameterization.LOWRANK, 0.5, 0.05, 0.5));
        assertTrue(lost.linearParameterCount() <= dense.linearParameterCount() / 2, lost.linearParameterCount() + " vs " + dense.linearParameterCount());
        assertTrue(low.linearParameterCount() <= dense.linearParameterCount() / 2);
        assertTrue(lost.linearParameterCount() > dense.linearParameterCount() * 0.4);
    }

    @Test
    void aRatioLostCannotMeetIsRefusedNamingTheModule() {
        ShrinkException e = assertThrows(ShrinkException.class,
                () -> Initialization.random(tinyConfig(), 1, new Initialization.Factoring(Parameterization.LOST, 0.02, 0.05, 0.5)));
        assertTrue(e.getMessage().startsWith("--params-ratio 0.02 for lost at model.layers.0.self_attn.q_proj: "), e.getMessage());
    }
}
