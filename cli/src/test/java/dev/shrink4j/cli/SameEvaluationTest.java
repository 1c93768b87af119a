package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * quantize, prune and lowrank score quality the same way: on the unchanged input they report the same
 * numbers (same texts, windows, tokens, NLL), whether the text is given or self-generated; a prune at
 * sparsity 0 stored dense changes nothing (ΔNLL 0, KL 0); and `eval` agrees with all three.
 */
class SameEvaluationTest {
    /** Identical computations on identical inputs: the figures must match to the last bit. */
    private static final double EXACT = 0;
    /** KL of a model against itself: rounding in the log-sum-exp only. */
    private static final double SELF_KL = 1e-9;

    @TempDir
    Path dir;

    @Test
    void everyCompressionCommandScoresTheInputAlike() throws IOException {
        String demo = TestData.demoModel().toString();
        Path text = dir.resolve("story.txt");
        Files.writeString(text, ("Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
                + "One day, she saw a big, red ball. She wanted to play with it, but it was too high. ").repeat(12));
        for (List<String> evalFlags : List.of(List.of("--eval", text.toString()), List.<String>of())) {
            String tag = evalFlags.isEmpty() ? "self" : "text";
            List<String> common = new java.util.ArrayList<>(evalFlags);
            common.addAll(List.of("--eval-seq-len", "64", "--max-windows", "3", "--quiet"));
            Map<?, ?> quantize = run(tag + "-q", common, "quantize", "--method", "rtn", "--bits", "8", demo);
            Map<?, ?> prune = run(tag + "-p", common, "prune", "--method", "magnitude", "--sparsity", "0", "--format", "dense", demo);
            Map<?, ?> lowrank = run(tag + "-l", common, "lowrank", "--method", "svd", "--params-ratio", "0.9", demo);
            for (String key : List.of("text", "seq_len", "windows", "tokens", "nll_before", "ppl_before")) {
                assertEquals(quantize.get(key), prune.get(key), tag + " " + key);
                assertEquals(quantize.get(key), lowrank.get(key), tag + " " + key);
            }
            assertEquals((Double) prune.get("nll_before"), (Double) prune.get("nll_after"), EXACT, tag + ": pruning nothing changes nothing");
            assertEquals(0, (Double) prune.get("kl"), SELF_KL, tag);
            assertTrue((Double) quantize.get("kl") > 0 && (Double) lowrank.get("kl") > 0, tag + ": the compressed models differ");
        }
        // The eval command on the same text and windows gives the same NLL.
        CliRunner eval = CliRunner.run("eval", "--model", demo, "--text", text.toString(), "--seq-len", "64", "--max-windows", "3", "--json", "--quiet");
        assertEquals(0, eval.status(), eval.err());
        Map<?, ?> e = (Map<?, ?>) Json.parse(eval.out());
        Map<?, ?> q = run("text-q2", List.of("--eval", text.toString(), "--eval-seq-len", "64", "--max-windows", "3", "--quiet"),
                "quantize", "--method", "rtn", "--bits", "8", demo);
        assertEquals((Double) e.get("nll"), (Double) q.get("nll_before"), EXACT);
    }

    /** Runs a compression command with a report and returns its one evaluation row. */
    private Map<?, ?> run(String name, List<String> common, String... commandAndIn) throws IOException {
        Path report = dir.resolve(name + "-report");
        List<String> args = new java.util.ArrayList<>(List.of(commandAndIn).subList(0, commandAndIn.length - 1));
        args.addAll(common);
        args.addAll(List.of("--report", report.toString(), commandAndIn[commandAndIn.length - 1], dir.resolve(name).toString()));
        CliRunner r = CliRunner.run(args.toArray(String[]::new));
        assertEquals(0, r.status(), String.join(" ", args) + ": " + r.err());
        Map<?, ?> json = (Map<?, ?>) Json.parse(Files.readString(report.resolve("report.json")));
        List<?> rows = (List<?>) json.get("eval");
        assertEquals(1, rows.size(), name);
        return (Map<?, ?>) rows.get(0);
    }
}
