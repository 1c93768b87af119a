package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.cli.CommandLine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --dry-run}: prints every field, writes nothing, exits 0; estimates are deterministic for a given probe. */
class DryRunTest {
    /** A fixed machine: 10 GFLOP/s GEMM, 2 GFLOP/s streaming, 5 µs hand-off, JIT 0.1 s, 0.5 s start-up. */
    private static final MachineProbe FIXED = new MachineProbe(10e9, 2e9, 5e-6, 0.1, 0.5, 1.0);
    /** The size estimate comes from the format's layout and IN's headers: it may miss only the JSON headers' length. */
    private static final double SIZE_TOLERANCE = 0.01;
    private static final List<String> FIELDS = List.of("dry run: ", "probe: GEMM ", "stages, in order:", "estimated wall time: ",
            "estimated peak RssAnon: ", "estimated output: ", " bits/weight");

    @TempDir Path dir;

    private static String demo() {
        return TestData.demoModel().toString();
    }

    private void assertEmpty() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.filter(p -> !p.getFileName().toString().endsWith(".yaml")).toList(), "the dry run wrote something");
        }
    }

    @Test
    void quantizeDryRunPrintsEveryFieldAndWritesNothing() throws IOException {
        Path out = dir.resolve("out");
        CliRunner r = CliRunner.run("quantize", "--dry-run", "--method", "gptq", "--bits", "4", "--samples", "4", "--seq-len", "32",
                "--report", dir.resolve("report").toString(), "--save-recipe", dir.resolve("r.yml").toString(), demo(), out.toString());
        assertEquals(0, r.status(), r.err());
        for (String f : FIELDS) assertTrue(r.out().contains(f), "missing " + f + " in\n" + r.out());
        for (String stage : List.of("calibration", "evaluation text", "eval before", "quantize gptq", "write", "eval after")) {
            assertTrue(r.out().contains(stage), "missing stage " + stage + " in\n" + r.out());
        }
        String stages = r.out().substring(r.out().indexOf("stages, in order:"));
        assertTrue(stages.indexOf("calibration") < stages.indexOf("quantize gptq") && stages.indexOf("quantize gptq") < stages.indexOf("eval after"),
                "stages out of order:\n" + r.out());
        assertEmpty();
    }

    @Test
    void pruneLowrankAndRecipeDryRunsWriteNothing() throws IOException {
        CliRunner p = CliRunner.run("prune", "--dry-run", "--method", "sparsegpt", "--pattern", "2:4", "--samples", "4", "--seq-len", "32",
                "--no-eval", demo(), dir.resolve("p").toString());
        assertEquals(0, p.status(), p.err());
        assertTrue(p.out().contains("estimated output: nm "), p.out());
        CliRunner l = CliRunner.run("lowrank", "--dry-run", "--method", "svd", "--params-ratio", "0.5", "--no-eval", demo(), dir.resolve("l").toString());
        assertEquals(0, l.status(), l.err());
        assertTrue(l.out().contains("lowrank svd"), l.out());
        Path recipe = Files.writeString(dir.resolve("r.yaml"), """
                calibration: {samples: 4, seq_len: 32}
                stages:
                  - prune: {method: width, sparsity: 0.25}
                  - quantize: {method: rtn, bits: 4}
                evaluation: {max_windows: 2}
                outputs:
                  - name: a
                  - name: b
                    quantize: {bits: 8}
                """);
        CliRunner run = CliRunner.run("run", "--dry-run", recipe.toString(), demo(), dir.resolve("o").toString());
        assertEquals(0, run.status(), run.err());
        for (String f : FIELDS) assertTrue(run.out().contains(f), "missing " + f + " in\n" + run.out());
        for (String s : List.of("stage 1/2: prune width", "stage 2/2 (a): quantize rtn", "stage 2/2 (b): quantize rtn", "evaluate IN", "evaluate output b",
                "output a: ", "output b: ")) {
            assertTrue(run.out().contains(s), "missing " + s + " in\n" + run.out());
        }
        assertEmpty();
    }

    @Test
    void estimatesAreDeterministicForAFixedProbe() throws Exception {
        CommandLine cl = parse("quantize", "--method", "guidedquant", "--bits", "3", "--samples", "8", "--seq-len", "64", demo(), "/tmp/x");
        DryRun.Estimate a = DryRun.estimate("quantize", cl, TestData.demoModel(), FIXED);
        DryRun.Estimate b = DryRun.estimate("quantize", cl, TestData.demoModel(), FIXED);
        assertEquals(a, b);
        // More calibration costs more; a faster machine costs less; the start-up is what the probe measured.
        CommandLine twice = parse("quantize", "--method", "guidedquant", "--bits", "3", "--samples", "16", "--seq-len", "64", demo(), "/tmp/x");
        assertTrue(DryRun.estimate("quantize", twice, TestData.demoModel(), FIXED).seconds() > a.seconds());
        MachineProbe faster = new MachineProbe(20e9, 4e9, 5e-6, 0.1, 0.5, 1.0);
        assertTrue(DryRun.estimate("quantize", cl, TestData.demoModel(), faster).seconds() < a.seconds());
        assertEquals(0.5, a.steps().getFirst().seconds());
        assertTrue(a.peakAnonBytes() > 0);
    }

    @Test
    void theSizeEstimateMatchesTheWrittenCheckpoint() throws Exception {
        for (String[] flags : List.of(new String[] {"--method", "rtn", "--bits", "4"}, new String[] {"--method", "rtn", "--bits", "3", "--sym", "--group-size", "32"},
                new String[] {"--method", "rtn", "--bits", "4", "--head-bits", "8"})) {
            Path out = dir.resolve("q" + flags.length + flags[3]);
            List<String> argv = new java.util.ArrayList<>(List.of("quantize", "--quiet", "--no-eval"));
            argv.addAll(List.of(flags));
            argv.addAll(List.of(demo(), out.toString()));
            CliRunner r = CliRunner.run(argv.toArray(String[]::new));
            assertEquals(0, r.status(), r.err());
            List<String> dry = new java.util.ArrayList<>(argv.subList(1, argv.size()));
            CommandLine cl = Main.parser().parse(Main.optionsOf(Main.command("quantize")), dry.toArray(String[]::new));
            OutputSizeModel.Size est = DryRun.estimate("quantize", cl, TestData.demoModel(), FIXED).output();
            long written = CompressionRun.safetensorsBytes(out);
            assertEquals(written, est.bytes(), SIZE_TOLERANCE * written, String.join(" ", flags));
            assertEquals(CompressionRun.blockLinearBytes(out), est.blockLinearBytes(), String.join(" ", flags));
        }
    }

    @Test
    void aBadFlagIsStillOneLineAndExit2() throws IOException {
        CliRunner r = CliRunner.run("quantize", "--dry-run", "--bits", "5", demo(), dir.resolve("o").toString());
        assertEquals(2, r.status());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("--bits 5"), r.err());
        assertFalse(Files.exists(dir.resolve("o")));
        Path recipe = Files.writeString(dir.resolve("bad.yaml"), "stages:\n  - quantize: {bitz: 4}\n");
        CliRunner run = CliRunner.run("run", "--dry-run", recipe.toString(), demo(), dir.resolve("o").toString());
        assertEquals(2, run.status());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        assertEmpty();
    }

    private static CommandLine parse(String command, String... args) throws Exception {
        return Main.parser().parse(Main.optionsOf(Main.command(command)), args);
    }
}
