package dev.shrink4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The committed PTX (src/main/resources/dev/shrink4j/cuda) must come from the current CUDA source:
 * its first line records the source's SHA-256, which must match (run native/build-ptx after editing
 * the .cu). Where nvcc and ptxas are installed, ptxas must accept the committed PTX for its target,
 * and when nvcc is the release that wrote it (the PTX header names it), nvcc must rebuild it byte for
 * byte; another release writes other text for the same source, which is not staleness.
 */
class PtxStalenessTest {
    static final Path SOURCE = Emulator.MODULE.resolve("src/main/cuda/shrink4j_kernels.cu");
    static final String[] TARGETS = {"sm_80", "sm_90"};

    @Test
    void committedPtxRecordsTheCurrentSourceHashAndEveryKernel() throws Exception {
        String sum = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(SOURCE)));
        for (String t : TARGETS) {
            String ptx = CudaDevice.ptx(t);
            assertEquals("// shrink4j-source-sha256: " + sum, ptx.lines().findFirst().orElse(""),
                    "shrink4j_kernels." + t + ".ptx is stale against " + SOURCE.getFileName() + ": run native/build-ptx");
            assertTrue(ptx.contains(".target " + t), t);
            for (String k : CudaDevice.KERNELS) assertTrue(ptx.contains(".entry " + k + "("), t + " lacks " + k);
        }
    }

    @Test
    void nvccRebuildsTheSamePtxAndPtxasAcceptsIt() throws Exception {
        assumeTrue(onPath("nvcc") && onPath("ptxas"), "nvcc/ptxas not installed: the committed PTX is used as is");
        Path dir = Files.createTempDirectory("ptx");
        try {
            for (String t : TARGETS) {
                Path out = dir.resolve(t + ".ptx");
                run("nvcc", "-ptx", "-O3", "-arch=" + t, "-o", out.toString(), SOURCE.toString());
                String committed = CudaDevice.ptx(t);
                String writtenBy = committed.lines().filter(l -> l.startsWith("// Cuda compilation tools")).findFirst().orElseThrow().substring(3);
                if (run("nvcc", "--version").contains(writtenBy)) {
                    String rebuilt = Files.readString(out);
                    assertEquals(committed.substring(committed.indexOf('\n') + 1), rebuilt, t + ": nvcc output differs from the committed PTX; run native/build-ptx");
                }
                Path committedFile = dir.resolve(t + "-committed.ptx");
                Files.writeString(committedFile, committed);
                run("ptxas", "-arch=" + t, "-o", dir.resolve(t + ".cubin").toString(), committedFile.toString());
            }
        } finally {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) Files.delete(p);
            }
            Files.delete(dir);
        }
    }

    static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) return true;
        }
        return false;
    }

    /** Runs a tool, requires exit 0, returns what it printed. */
    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", cmd) + " timed out");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + out);
        return out;
    }
}
