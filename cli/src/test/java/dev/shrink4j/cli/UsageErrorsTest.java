package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command, three ways to get it wrong: a flag it does not have (exit 2, with a suggestion when
 * misspelt), a file that is not there (exit 1) and a value out of range (exit 2). Each failure is one
 * line on stderr, nothing on stdout, and nothing written.
 */
class UsageErrorsTest {
    private static final String MISSING = "/nonexistent/shrink4j-test";

    @TempDir
    Path dir;

    /** One bad command line and what it must produce. */
    private record Case(int status, String fragment, List<String> args) {
        static Case of(int status, String fragment, String... args) {
            return new Case(status, fragment, List.of(args));
        }
    }

    private List<Case> cases() throws java.io.IOException {
        String demo = TestData.demoModel().toString();
        String text = Files.writeString(dir.resolve("story.txt"), "Once upon a time, there was a little girl named Lily.\n").toString();
        String out = dir.resolve("out").toString();
        String recipe = Files.writeString(dir.resolve("r.yaml"), "stages: [{quantize: {method: rtn, bits: 4}}]\n").toString();
        String badValue = Files.writeString(dir.resolve("bad.yaml"), "stages: [{quantize: {method: rtn, bits: 5}}]\n").toString();
        return List.of(
                // devices
                Case.of(2, "unexpected argument gpu (expected no arguments)", "devices", "gpu"),
                Case.of(2, "unknown option --device", "devices", "--device", "cuda"),
                // --device, on a command that computes
                Case.of(2, "--device cude: unknown; did you mean cuda?", "quantize", "--method", "rtn", "--device", "cude", demo, out),
                // inspect
                Case.of(2, "unknown option --jsn; did you mean --json?", "inspect", "--jsn", demo),
                Case.of(1, MISSING + ": no such", "inspect", MISSING),
                Case.of(2, "unexpected argument", "inspect", demo, demo),
                // quantize
                Case.of(2, "unknown option --methd; did you mean --method?", "quantize", "--methd", "rtn", demo, out),
                Case.of(1, "IN " + MISSING + ": no such directory", "quantize", MISSING, out),
                Case.of(1, "--calib " + MISSING + ": no such file", "quantize", "--calib", MISSING, "--no-eval", demo, out),
                Case.of(1, "--eval " + MISSING + ": no such file", "quantize", "--method", "rtn", "--eval", MISSING, demo, out),
                Case.of(2, "--bits 5: not supported (expected one of 2, 3, 4, 8)", "quantize", "--bits", "5", demo, out),
                Case.of(2, "--method gptqq: unknown; did you mean gptq?", "quantize", "--method", "gptqq", demo, out),
                Case.of(2, "OUT " + demo + " is IN", "quantize", "--method", "rtn", demo, demo),
                Case.of(2, "missing OUT", "quantize", demo),
                Case.of(2, "--outlier-ratio must be in [0, 0.5), got 0.5", "quantize", "--method", "requant", "--outlier-ratio", "0.5", demo, out),
                Case.of(2, "--base awq: unknown", "quantize", "--method", "requant", "--base", "awq", demo, out),
                // pqi
                Case.of(2, "--quantized is required", "pqi", "--model", demo),
                Case.of(1, "--quantized " + MISSING + ": no such directory", "pqi", "--model", demo, "--quantized", MISSING),
                Case.of(2, "--points 0: expected comma-separated integers", "pqi", "--model", demo, "--quantized", demo, "--points", "0"),
                // eval
                Case.of(2, "unknown option --max-window; did you mean --max-windows?", "eval", "--model", demo, "--text", text, "--max-window", "2"),
                Case.of(1, "--text " + MISSING + ": no such file", "eval", "--model", demo, "--text", MISSING),
                Case.of(1, "--model " + MISSING + ": no such directory", "eval", "--model", MISSING, "--text", text),
                Case.of(2, "--model is required", "eval", "--text", text),
                Case.of(2, "--seq-len must be at least 2, got 1", "eval", "--model", demo, "--text", text, "--seq-len", "1"),
                // generate
                Case.of(2, "unknown option --max-token; did you mean --max-tokens?", "generate", "--model", demo, "--max-token", "3"),
                Case.of(1, "--model " + MISSING + ": no such directory", "generate", "--model", MISSING),
                Case.of(2, "--temperature must be in [0, 100], got -1", "generate", "--model", demo, "--temperature", "-1"),
                // synth
                Case.of(2, "unknown option --preset-name", "synth", "--preset-name", "x", "--seed", "1", out),
                Case.of(1, "--config " + MISSING + ": no such file", "synth", "--config", MISSING, "--seed", "1", out),
                Case.of(2, "--dtype q7: unknown (expected one of bf16, f16, f32)", "synth", "--preset", "tinyllama-1.1b", "--dtype", "q7", "--seed", "1", out),
                Case.of(2, "--preset tinylama-1.1b: unknown; did you mean tinyllama-1.1b?", "synth", "--preset", "tinylama-1.1b", "--seed", "1", out),
                // prune
                Case.of(2, "unknown option --sparsty; did you mean --sparsity?", "prune", "--method", "magnitude", "--sparsty", "0.5", demo, out),
                Case.of(1, "IN " + MISSING + ": no such directory", "prune", "--method", "magnitude", "--sparsity", "0.5", MISSING, out),
                Case.of(1, "--calib " + MISSING + ": no such file", "prune", "--method", "wanda", "--sparsity", "0.5", "--calib", MISSING, "--no-eval", demo, out),
                Case.of(2, "--sparsity must be in [0, 1), got 1.5", "prune", "--method", "magnitude", "--sparsity", "1.5", demo, out),
                Case.of(2, "--method wandaa: unknown; did you mean wanda?", "prune", "--method", "wandaa", "--sparsity", "0.5", demo, out),
                Case.of(2, "OUT " + demo + " is IN", "prune", "--method", "magnitude", "--sparsity", "0.5", demo, demo),
                // sparsity
                Case.of(2, "unknown option --level; did you mean --levels?", "sparsity", "--model", demo, "--text", text, "--level", "0:50:10"),
                Case.of(1, "--text " + MISSING + ": no such file", "sparsity", "--model", demo, "--text", MISSING),
                Case.of(2, "--tolerance must be in [0, ∞], got -1", "sparsity", "--model", demo, "--text", text, "--tolerance", "-1"),
                // lowrank
                Case.of(2, "unknown option --params; did you mean --params-ratio?", "lowrank", "--method", "svd", "--params", "0.5", demo, out),
                Case.of(1, "IN " + MISSING + ": no such directory", "lowrank", "--method", "svd", "--params-ratio", "0.5", MISSING, out),
                Case.of(2, "--params-ratio must be in (0, 1], got 2", "lowrank", "--method", "svd", "--params-ratio", "2", demo, out),
                Case.of(2, "--method lots: unknown; did you mean lost?", "lowrank", "--method", "lots", "--params-ratio", "0.5", demo, out),
                // convert
                Case.of(2, "unknown option --too; did you mean --to?", "convert", "--too", "gguf", demo, dir.resolve("out").toString()),
                Case.of(1, "IN " + MISSING + ": no such file or directory", "convert", MISSING, out),
                Case.of(2, "--dtype q7: unknown (expected one of f32, f16, bf16)", "convert", "--dtype", "q7", demo, out),
                // run (a recipe)
                Case.of(2, "unknown option --forse; did you mean --force?", "run", "--forse", recipe, demo, out),
                Case.of(1, "RECIPE " + MISSING + ": no such file", "run", MISSING, demo, out),
                Case.of(1, "IN " + MISSING + ": no such directory", "run", recipe, MISSING, out),
                Case.of(2, "stages[0].quantize: --bits 5: not supported", "run", badValue, demo, out),
                Case.of(2, "missing OUT", "run", recipe, demo),
                // train
                Case.of(2, "unknown option --tokns; did you mean --tokens?", "train", "--tokns", "10", "--out", out),
                Case.of(1, "--config " + MISSING + ": no such file", "train", "--config", MISSING, "--text", MISSING, "--tokens", "10", "--out", out),
                Case.of(2, "--parameterization lots: unknown; did you mean lost?", "train", "--config", MISSING, "--text", MISSING, "--tokens", "10",
                        "--parameterization", "lots", "--out", out),
                // the command itself
                Case.of(2, "unknown command 'quantise'; did you mean quantize?", "quantise", demo, out));
    }

    @Test
    void everyCommandRefusesABadFlagAMissingFileAndABadValueInOneLine() throws java.io.IOException {
        // All cases run; the failures are listed together.
        List<String> failures = new java.util.ArrayList<>();
        for (Case c : cases()) {
            CliRunner r = CliRunner.run(c.args().toArray(String[]::new));
            String what = String.join(" ", c.args()) + " -> exit " + r.status() + ", stderr: " + r.err().strip() + (r.out().isEmpty() ? "" : ", stdout: " + r.out().strip());
            boolean ok = r.status() == c.status() && r.err().contains(c.fragment()) && r.err().strip().lines().count() == 1
                    && r.out().isEmpty() && !Files.exists(dir.resolve("out"));
            if (!ok) failures.add("want exit " + c.status() + " and '" + c.fragment() + "': " + what);
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    /** Each command is tried with each kind of error (the list above stays complete as commands are added). */
    @Test
    void theCasesCoverEveryCommand() throws java.io.IOException {
        Set<String> covered = cases().stream().map(c -> c.args().get(0)).collect(Collectors.toSet());
        for (Command c : Commands.all()) {
            assertTrue(covered.contains(c.name()), c.name() + " has no usage-error case");
            Set<Integer> kinds = cases().stream().filter(x -> x.args().get(0).equals(c.name())).map(Case::status).collect(Collectors.toSet());
            // `devices` reads no file, so it has no bad-data case to try.
            Set<Integer> expected = c.name().equals("devices") ? Set.of(2) : Set.of(1, 2);
            assertEquals(expected, kinds, c.name() + ": both a bad-data (1) and a usage (2) case");
        }
    }
}
