package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** eval, generate and synth end to end on the demo model and a tiny synthetic one. */
class ModelCommandsTest {
    static final String GOLDEN = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big, red ball. She wanted to play with it, but it was too high";

    @TempDir Path dir;

    @Test
    void generateFromBosPrintsTheGoldenText() {
        CliRunner r = CliRunner.run("generate", "--model", TestData.demoModel().toString(), "--max-tokens", "60");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith(GOLDEN), r.out());
        CliRunner sampled = CliRunner.run("generate", "--model", TestData.demoModel().toString(), "--prompt", "The dog",
                "--max-tokens", "20", "--temperature", "0.8", "--top-p", "0.9", "--seed", "3");
        assertEquals(0, sampled.status(), sampled.err());
        assertTrue(sampled.out().startsWith("The dog"), sampled.out());
        assertEquals(sampled.out(), CliRunner.run("generate", "--model", TestData.demoModel().toString(), "--prompt", "The dog",
                "--max-tokens", "20", "--temperature", "0.8", "--top-p", "0.9", "--seed", "3").out(), "seeded sampling repeats");
    }

    @Test
    void evalJsonHasTheProtocolKeys() throws IOException {
        Path text = dir.resolve("t.txt");
        Files.writeString(text, "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ".repeat(8));
        CliRunner r = CliRunner.run("eval", "--model", TestData.demoModel().toString(), "--text", text.toString(), "--seq-len", "32",
                "--reference", TestData.demoModel().toString(), "--json");
        assertEquals(0, r.status(), r.err());
        Map<?, ?> m = (Map<?, ?>) Json.parse(r.out());
        double nll = ((Number) m.get("nll")).doubleValue();
        assertTrue(nll > 0 && nll < Math.log(512) / 3, "nll " + nll);
        assertEquals(Math.exp(nll), ((Number) m.get("ppl")).doubleValue(), 1e-9);
        long windows = ((Number) m.get("windows")).longValue();
        assertEquals(windows * 31, ((Number) m.get("tokens")).longValue());
        assertEquals(0.0, ((Number) m.get("kl")).doubleValue(), 1e-9);
        CliRunner plain = CliRunner.run("eval", "--model", TestData.demoModel().toString(), "--text", text.toString(), "--seq-len", "32",
                "--max-windows", "2");
        assertEquals(0, plain.status(), plain.err());
        assertTrue(plain.out().contains("2 windows of 31 tokens + BOS"), plain.out());
    }

    @Test
    void synthWritesALoadableShardedCheckpoint() throws IOException {
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, """
                {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 256, "intermediate_size": 384,
                 "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 512,
                 "max_position_embeddings": 64, "tie_word_embeddings": true}""");
        Path out = dir.resolve("synth");
        CliRunner r = CliRunner.run("synth", "--config", cfg.toString(), "--layers", "2", "--seed", "4", "--shard-size", "1", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.exists(out.resolve("model.safetensors.index.json")), "sharded");
        assertTrue(r.out().contains("layers 2"), r.out());
        // A tokenizer makes it evaluable: a random model scores near the uniform ln 512.
        Files.copy(TestData.demoModel().resolve("tokenizer.json"), out.resolve("tokenizer.json"));
        Path text = dir.resolve("t.txt");
        Files.writeString(text, "Once upon a time there was a dog. ".repeat(20));
        CliRunner e = CliRunner.run("eval", "--model", out.toString(), "--text", text.toString(), "--seq-len", "64", "--json");
        assertEquals(0, e.status(), e.err());
        double nll = ((Number) ((Map<?, ?>) Json.parse(e.out())).get("nll")).doubleValue();
        assertEquals(Math.log(512), nll, 0.1);
        CliRunner again = CliRunner.run("synth", "--config", cfg.toString(), "--seed", "4", out.toString());
        assertEquals(2, again.status(), "an existing OUT is a usage error, as in every command");
        assertTrue(again.err().contains("already exists"), again.err());
    }

    /** Self-calibration works in token ids: a checkpoint without a tokenizer is quantized, pruned and factorized. */
    @Test
    void aCheckpointWithoutATokenizerSelfCalibrates() throws IOException {
        Path cfg = dir.resolve("tiny.json");
        Files.writeString(cfg, """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 256,
                 "max_position_embeddings": 64, "tie_word_embeddings": true}""");
        Path in = dir.resolve("tiny");
        assertEquals(0, CliRunner.run("synth", "--config", cfg.toString(), "--seed", "1", in.toString()).status());
        assertTrue(!Files.exists(in.resolve("tokenizer.json")));
        String[][] runs = {
                {"quantize", "--method", "gptq", "--bits", "4", "--group-size", "32"},
                {"prune", "--method", "wanda", "--sparsity", "0.5"},
                {"lowrank", "--method", "whitened-svd", "--params-ratio", "0.5"},
        };
        for (String[] run : runs) {
            java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of(run));
            a.addAll(java.util.List.of("--samples", "4", "--seq-len", "32", "--quiet", in.toString(), dir.resolve(run[0]).toString()));
            CliRunner r = CliRunner.run(a.toArray(String[]::new));
            assertEquals(0, r.status(), String.join(" ", a) + ": " + r.err());
            assertTrue(r.out().contains("self-generated"), "evaluated on the model's own generations: " + r.out());
        }
    }

    @Test
    void badInputGivesOneLineAndExitOne() throws IOException {
        String demo = TestData.demoModel().toString();
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "  \n");
        assertError(1, "text is empty", "eval", "--model", demo, "--text", empty.toString());
        Path text = dir.resolve("t.txt");
        Files.writeString(text, "Once upon a time.");
        assertError(2, "exceeds the model's context of 512 tokens", "eval", "--model", demo, "--text", text.toString(), "--seq-len", "4096");
        assertError(1, "fewer than one window", "eval", "--model", demo, "--text", text.toString());
        assertError(2, "--seq-len expects an integer", "eval", "--model", demo, "--text", text.toString(), "--seq-len", "abc");

        Path gpt2 = copyDemo("gpt2");
        Files.writeString(gpt2.resolve("config.json"), Files.readString(gpt2.resolve("config.json")).replace("LlamaForCausalLM", "GPT2LMHeadModel"));
        assertError(1, "unsupported architecture GPT2LMHeadModel; supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM",
                "generate", "--model", gpt2.toString());
        Path wrong = copyDemo("wrong");
        Files.writeString(wrong.resolve("config.json"), Files.readString(wrong.resolve("config.json")).replace("\"intermediate_size\": 172", "\"intermediate_size\": 176"));
        assertError(1, "tensor model.layers.0.mlp.gate_proj.weight in " + wrong + " has shape [172, 64], expected [176, 64]",
                "generate", "--model", wrong.toString());
        Path untied = copyDemo("untied");
        Files.writeString(untied.resolve("config.json"), Files.readString(untied.resolve("config.json")).replace("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false"));
        assertError(1, "lm_head.weight", "generate", "--model", untied.toString());
        assertError(2, "give exactly one of --preset and --config", "synth", "--seed", "1", dir.resolve("x").toString());
    }

    private Path copyDemo(String name) throws IOException {
        Path d = dir.resolve(name);
        Files.createDirectories(d);
        try (Stream<Path> files = Files.list(TestData.demoModel())) {
            for (Path f : files.toList()) Files.copy(f, d.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        return d;
    }

    private static void assertError(int status, String fragment, String... args) {
        CliRunner r = CliRunner.run(args);
        assertEquals(status, r.status(), r.out() + r.err());
        assertTrue(r.err().contains(fragment), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }
}
