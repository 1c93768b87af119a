package dev.shrink4j.cli;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.apache.commons.cli.CommandLine;

/**
 * Shared pieces of {@code prune} and {@code sparsity}: calibration and evaluation tokens, option
 * parsing, and the report directory (report.json + report.md). Kept apart from the quantize
 * command's helpers so the two can be merged later without edits here.
 */
final class PruneSupport {
    private PruneSupport() {}

    static double doubleOption(CommandLine cl, String name, double dflt) {
        String v = cl.getOptionValue(name);
        if (v == null) {
            return dflt;
        }
        try {
            return Double.parseDouble(v.trim().endsWith("%") ? v.trim().substring(0, v.trim().length() - 1) : v) / (v.trim().endsWith("%") ? 100.0 : 1.0);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + ": expected a number, got '" + v + "'");
        }
    }

    static int intOption(CommandLine cl, String name, int dflt) {
        String v = cl.getOptionValue(name);
        if (v == null) {
            return dflt;
        }
        try {
            int i = Integer.parseInt(v.trim());
            if (i <= 0) {
                throw new UsageException("--" + name + ": expected a positive integer, got '" + v + "'");
            }
            return i;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + ": expected an integer, got '" + v + "'");
        }
    }

    /** {@code --seed}, default 0. */
    static long seed(CommandLine cl) {
        String v = cl.getOptionValue("seed", "0");
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--seed: expected an integer, got '" + v + "'");
        }
    }

    static String readText(Path file, String flag) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ShrinkException(flag + " " + file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Calibration sequences (§1.2, §5.4): the file tokenized once without special tokens and cut into
     * consecutive chunks of seqLen tokens; the first {@code samples} chunks.
     *
     * @return (samples', seqLen) ids, samples' ≤ samples when the text is short (never 0)
     */
    static int[] calibration(Tokenizer tok, Path file, int samples, int seqLen) {
        int[] ids = tok.encode(readText(file, "--calib"), false);
        int n = Math.min(samples, ids.length / seqLen);
        if (n == 0) {
            throw new ShrinkException("--calib " + file + ": " + ids.length + " tokens, fewer than one sequence of " + seqLen);
        }
        return Arrays.copyOf(ids, n * seqLen);
    }

    static Tokenizer tokenizer(LlamaModel model) {
        return Tokenizer.load(model.weights().directory(), model.config());
    }

    /** Writes report.json and report.md into {@code dir} (created). */
    static void writeReport(Path dir, Map<String, Object> json, String markdown) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("report.json"), Json.write(json, 2) + "\n");
            Files.writeString(dir.resolve("report.md"), markdown);
        } catch (IOException e) {
            throw new ShrinkException("--report " + dir + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Seconds since {@code t0} (System.nanoTime), rounded to ms. */
    static double seconds(long t0) {
        return Math.round((System.nanoTime() - t0) / 1e6) / 1e3;
    }
}
