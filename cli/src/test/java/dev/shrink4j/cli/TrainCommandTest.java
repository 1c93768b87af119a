package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
    private static final String TINY = """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 32, "intermediate_size": 64,
             "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16, "vocab_size": 512,
             "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2}
            """;
    private static final String STORY = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ";

    @TempDir Path dir;

    private List<String> train(Path config, Path text, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--config", config.toString(), "--tokenizer", TestData.demoModel().toString(),
                "--text", text.toString(), "--tokens", "384", "--batch", "2", "--seq-len", "32", "--eval-windows", "2", "--eval-every", "2",
                "--checkpoint-every", "1", "--seed", "4", "--quiet", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a;
    }

    @Test
    void trainsAModelThatEvalReadsAndResumesAfterKillMinus9BitForBit() throws Exception {
        Path config = Files.writeString(dir.resolve("tiny.json"), TINY);
        Path text = Files.writeString(dir.resolve("t.txt"), STORY.repeat(30));
        Path whole = dir.resolve("whole");
        CliRunner r = CliRunner.run(train(config, text, whole).toArray(String[]::new));
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("held-out NLL"), r.out());
        CliRunner e = CliRunner.run("eval", "--model", whole.resolve("model").toString(), "--text", text.toString(), "--seq-len", "32", "--quiet");
        assertEquals(0, e.status(), e.err());

        // kill -9 once a checkpoint exists, then the same command with --resume.
        Path killed = dir.resolve("killed");
        Process p = ChildJvm.start(ChildJvm.command(train(config, text, killed).toArray(String[]::new)), dir.resolve("err.txt"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (p.isAlive() && !Files.isDirectory(killed.resolve("checkpoint-2")) && System.nanoTime() < deadline) Thread.sleep(20);
        p.destroyForcibly();
        p.waitFor();
        assertFalse(Files.exists(killed.resolve("model")), "the child finished before it was killed: nothing was tested");
        CliRunner again = CliRunner.run(train(config, text, killed, "--resume").toArray(String[]::new));
        assertEquals(0, again.status(), again.err());
        assertArrayEquals(Files.readAllBytes(whole.resolve("model/model.safetensors")), Files.readAllBytes(killed.resolve("model/model.safetensors")));
    }

    @Test
    void badInputsGiveOneLineAndAnExitCode() throws Exception {
        Path text = Files.writeString(dir.resolve("t.txt"), STORY.repeat(30));
        Path good = Files.writeString(dir.resolve("tiny.json"), TINY);
        // 3 query heads cannot share 2 KV heads: the runtime cannot build it.
        Path bad = Files.writeString(dir.resolve("bad.json"), TINY.replace("\"num_attention_heads\": 2", "\"num_attention_heads\": 3")
                .replace("\"num_key_value_heads\": 1", "\"num_key_value_heads\": 2"));
        CliRunner r = CliRunner.run(train(bad, text, dir.resolve("o1")).toArray(String[]::new));
        assertEquals(1, r.status(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("bad.json"), r.err());

        Path shortText = Files.writeString(dir.resolve("short.txt"), "Once upon a time.");
        r = CliRunner.run(train(good, shortText, dir.resolve("o2"), "--eval-text", text.toString()).toArray(String[]::new));
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("fewer than one batch of 2 × 31"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        r = CliRunner.run(train(good, text, dir.resolve("o3"), "--parameterization", "lost", "--params-ratio", "0.02").toArray(String[]::new));
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("--params-ratio 0.02 for lost at model.layers.0.self_attn.q_proj"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        r = CliRunner.run(train(good, text, dir.resolve("o4"), "--gamma", "0.5").toArray(String[]::new));
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("--gamma applies to --parameterization lowrank or lost"), r.err());
        for (String o : List.of("o1", "o2", "o3", "o4")) assertFalse(Files.exists(dir.resolve(o).resolve("model")), o);
    }
}
