package dev.shrink4j.cli;

import dev.shrink4j.tensors.ShrinkException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.cli.CommandLine;

/** Option parsing shared by the commands (eval, generate, synth, lowrank, …). */
final class ModelArgs {
    private ModelArgs() {}

    static int intOption(CommandLine cl, String name, int dflt, int min) {
        if (!cl.hasOption(name)) return dflt;
        String v = cl.getOptionValue(name);
        int x;
        try {
            x = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects an integer, got '" + v + "'");
        }
        if (x < min) throw new UsageException("--" + name + " must be at least " + min + ", got " + x);
        return x;
    }

    static long longOption(CommandLine cl, String name, long dflt) {
        if (!cl.hasOption(name)) return dflt;
        String v = cl.getOptionValue(name);
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects an integer, got '" + v + "'");
        }
    }

    static double doubleOption(CommandLine cl, String name, double dflt, double min, double max) {
        if (!cl.hasOption(name)) return dflt;
        String v = cl.getOptionValue(name);
        double x;
        try {
            x = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects a number, got '" + v + "'");
        }
        if (!(x >= min && x <= max)) throw new UsageException("--" + name + " must be in [" + min + ", " + max + "], got " + v);
        return x;
    }

    static Path modelDir(CommandLine cl, String name) {
        Path p = Path.of(cl.getOptionValue(name));
        if (!Files.isDirectory(p)) throw new ShrinkException("--" + name + " " + p + ": not a model directory");
        return p;
    }

    /** Reads a UTF-8 text file; empty or blank text is an error. */
    static String readText(Path file) {
        if (!Files.isRegularFile(file)) throw new ShrinkException(file + ": no such text file");
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ShrinkException(file + ": cannot read as UTF-8 text: " + e.getMessage(), e);
        }
        if (text.isBlank()) throw new ShrinkException(file + ": text is empty");
        return text;
    }
}
