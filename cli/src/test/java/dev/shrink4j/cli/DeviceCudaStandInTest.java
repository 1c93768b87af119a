package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shrink4j.tensors.testing.TestData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole path of {@code --device cuda} on the native module's CPU stand-in driver (built by its
 * tests into native/target/emu), each command in a fresh JVM naming the stand-in: `devices` lists it;
 * a GPTQ run with every product sent to the "device" ({@code -Dshrink4j.cuda.minWork=0}) writes a
 * checkpoint; eval and generate of a compressed checkpoint run their format kernels on the "device"
 * ({@code -Dshrink4j.cuda.minWeights=0}; the stand-in's launch trace shows which) and agree with the
 * CPU; {@code cuda:N} picks device N of several, and a device that does not exist is one line, exit 2.
 */
class DeviceCudaStandInTest {
    static final Path STAND_IN = Path.of(System.getProperty("shrink4j.root", ".."), "native/target/emu/libshrink4j-cudaemu.so");

    /** Every dense product on the "device". */
    static final String ALL_PRODUCTS = "-Dshrink4j.cuda.minWork=0";
    /** Every compressed weight's matvec/matmul on the "device" (dense products keep the default threshold). */
    static final String ALL_FORMATS = "-Dshrink4j.cuda.minWeights=0";

    static List<String> run(List<String> args) throws Exception {
        return run(args, Map.of(), 0, ALL_PRODUCTS).out().lines().toList();
    }

    /**
     * Runs shrink4j with {@code args} on the stand-in in a fresh JVM with the JVM options {@code props}
     * and {@code env} added; asserts the exit status.
     */
    static CliRunner run(List<String> args, Map<String, String> env, int status, String... props) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Dshrink4j.cuda.driver=" + STAND_IN,
                // read back as UTF-8 below: without a locale (env -i, minimal CI images) the JVM would print "…" as "?"
                "-Dstdout.encoding=UTF-8", "-Dstderr.encoding=UTF-8"));
        cmd.addAll(List.of(props));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        // stderr to a file, so neither pipe can fill while the other is read
        Path errFile = Files.createTempFile("shrink4j-standin", ".err");
        try {
            Process p = pb.redirectError(errFile.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", args));
            String err = Files.readAllLines(errFile).stream().filter(l -> !l.startsWith("WARNING: Using incubator modules"))
                    .map(l -> l + "\n").collect(Collectors.joining());
            assertEquals(status, p.exitValue(), String.join(" ", args) + ": " + err);
            return new CliRunner(p.exitValue(), out, err);
        } finally {
            Files.deleteIfExists(errFile);
        }
    }

    /** "kernel cuda:N" → launches, from the stand-in's trace file (SHRINK4J_EMU_TRACE). */
    static Map<String, Long> launches(Path trace) throws java.io.IOException {
        if (!Files.exists(trace)) return Map.of();
        return Files.readAllLines(trace).stream().collect(Collectors.groupingBy(l -> l, TreeMap::new, Collectors.counting()));
    }

    @Test
    void devicesListsTheStandInAndGptqRunsOnIt(@TempDir Path dir) throws Exception {
        assumeTrue(Files.exists(STAND_IN), "the stand-in is built by the native module's tests: " + STAND_IN);
        List<String> devices = run(List.of("devices"));
        assertEquals("cuda: driver 13.0 (" + STAND_IN + "), 1 device", devices.get(1));
        assertEquals("  0: shrink4j CUDA emulation (CPU stand-in), compute capability 9.0, 1.0 GiB, 1 SMs", devices.get(2));

        Path out = dir.resolve("gptq");
        run(List.of("quantize", "--method", "gptq", "--bits", "4", "--samples", "2", "--seq-len", "32", "--no-eval", "--quiet",
                "--device", "cuda", TestData.demoModel().toString(), out.toString()));
        assertTrue(Files.exists(out.resolve("config.json")));
        try (var files = Files.list(out)) {
            assertTrue(files.anyMatch(f -> f.toString().endsWith(".safetensors")), "a checkpoint was written");
        }
    }

    @Test
    void evalAndGenerateOfACompressedCheckpointRunTheFormatKernelsOnTheDeviceAndMatchTheCpu(@TempDir Path dir) throws Exception {
        assumeTrue(Files.exists(STAND_IN), "the stand-in is built by the native module's tests: " + STAND_IN);
        // RTN 4-bit, groups of 32, in-process (the CSR and LUT/N:M kernels have their differential tests
        // in the native module; the emulated device is too slow to run a whole model through each).
        Path q = dir.resolve("rtn");
        CliRunner made = CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--group-size", "32",
                "--no-eval", "--quiet", "--device", "cpu", TestData.demoModel().toString(), q.toString());
        assertEquals(0, made.status(), made.err());
        String text = TestData.root().resolve("examples/text/tinystories-valid.txt").toString();
        List<String> eval = List.of("eval", "--model", q.toString(), "--text", text, "--seq-len", "64", "--max-windows", "2", "--json", "--quiet");
        List<String> generate = List.of("generate", "--model", q.toString(), "--prompt", "Once upon a time", "--max-tokens", "16", "--quiet");

        CliRunner cpuEval = CliRunner.run(concat(eval, "--device", "cpu").toArray(String[]::new));
        CliRunner cpuGen = CliRunner.run(concat(generate, "--device", "cpu").toArray(String[]::new));
        assertEquals(0, cpuEval.status(), cpuEval.err());
        assertEquals(0, cpuGen.status(), cpuGen.err());

        Path trace = dir.resolve("trace");
        // Two stand-in devices: cuda:1 is the second.
        Map<String, String> env = Map.of("SHRINK4J_EMU_TRACE", trace.toString(), "SHRINK4J_EMU_DEVICES", "2");
        CliRunner gpuEval = run(concat(eval, "--device", "cuda:1"), env, 0, ALL_FORMATS);
        Map<String, Long> evalLaunches = launches(trace);
        Files.deleteIfExists(trace);
        CliRunner gpuGen = run(concat(generate, "--device", "cuda"), env, 0, ALL_FORMATS);
        Map<String, Long> genLaunches = launches(trace);

        // eval scores whole windows: the matmul kernels; generate decodes a token at a time: the matvecs.
        // Every launch on the device asked for (cuda:1, then cuda = cuda:0).
        assertTrue(evalLaunches.keySet().stream().allMatch(k -> k.endsWith(" cuda:1")), evalLaunches::toString);
        assertTrue(genLaunches.keySet().stream().allMatch(k -> k.endsWith(" cuda:0")), genLaunches::toString);
        assertTrue(evalLaunches.getOrDefault("s4j_uniform_matmul cuda:1", 0L) > 0, evalLaunches::toString);
        assertTrue(genLaunches.getOrDefault("s4j_uniform_matvec cuda:0", 0L) > 0, genLaunches::toString);
        double nllCpu = nll(cpuEval.out()), nllGpu = nll(gpuEval.out());
        assertEquals(nllCpu, nllGpu, 1e-5 * Math.abs(nllCpu), "NLL: sums in another order only");
        assertEquals(cpuGen.out(), gpuGen.out(), "greedy tokens");
    }

    @Test
    void devicesListsEveryDeviceAndAnIndexOutOfRangeIsOneLineExitTwo(@TempDir Path dir) throws Exception {
        assumeTrue(Files.exists(STAND_IN), "the stand-in is built by the native module's tests: " + STAND_IN);
        Map<String, String> env = Map.of("SHRINK4J_EMU_DEVICES", "3");
        List<String> devices = run(List.of("devices"), env, 0).out().lines().toList();
        assertEquals("cuda: driver 13.0 (" + STAND_IN + "), 3 devices", devices.get(1));
        for (int i = 0; i < 3; i++) {
            assertEquals("  " + i + ": shrink4j CUDA emulation (CPU stand-in), compute capability 9.0, 1.0 GiB, 1 SMs", devices.get(2 + i));
        }
        Path out = dir.resolve("out");
        CliRunner r = run(List.of("quantize", "--method", "rtn", "--bits", "4", "--no-eval", "--device", "cuda:3",
                TestData.demoModel().toString(), out.toString()), env, 2);
        assertEquals("shrink4j quantize: --device cuda:3: no usable CUDA device: device 3 does not exist (the driver sees 3: cuda:0 to cuda:2)"
                + " (see shrink4j quantize --help)", r.err().strip());
        assertTrue(!Files.exists(out), "nothing written");
        // The property's form, refused up front by any command.
        CliRunner p = run(List.of("devices"), env, 2, "-Dshrink4j.kernels=cuda:3");
        assertEquals("shrink4j devices: -Dshrink4j.kernels=cuda:3: device 3 does not exist (the driver sees 3: cuda:0 to cuda:2)", p.err().strip());
        CliRunner bad = run(List.of("quantize", "--device", "cuda:x", TestData.demoModel().toString(), out.toString()), env, 2);
        assertEquals("shrink4j quantize: --device cuda:x: expected cuda or cuda:N, N a device index (0, 1, …; see shrink4j devices)"
                + " (see shrink4j quantize --help)", bad.err().strip());
    }

    static List<String> concat(List<String> a, String... more) {
        List<String> all = new ArrayList<>(a);
        all.addAll(List.of(more));
        return all;
    }

    static double nll(String json) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"nll\": ([0-9.eE+-]+)").matcher(json);
        assertTrue(m.find(), json);
        return Double.parseDouble(m.group(1));
    }
}
