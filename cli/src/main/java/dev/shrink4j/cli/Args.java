package dev.shrink4j.cli;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.gguf.GgufFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.apache.commons.cli.CommandLine;

/**
 * The one option parser every command uses: typed values with their ranges, choices with a "did you
 * mean" suggestion, positional arguments, input directories, text files and the output directory.
 *
 * <p>Kinds of error (one message per kind, worded the same in every command):
 * <ul>
 *   <li>a wrong flag, a value out of range, a misspelt choice, the wrong number of arguments, an output
 *       that is the input or exists without {@code --force}: {@link UsageException}, exit 2;</li>
 *   <li>a file or directory that is missing, unreadable or malformed: {@link ShrinkException}, exit 1
 *       ({@code --text /x.txt: no such file}).</li>
 * </ul>
 */
final class Args {
    private final CommandLine cl;

    Args(CommandLine cl) {
        this.cl = cl;
    }

    CommandLine commandLine() {
        return cl;
    }

    boolean has(String option) {
        return cl.hasOption(option);
    }

    String string(String option, String dflt) {
        return cl.getOptionValue(option, dflt);
    }

    /** The value of a required option; {@code --NAME is required} otherwise. */
    String required(String option, String example) {
        if (!cl.hasOption(option)) throw new UsageException("--" + option + " is required" + (example.isEmpty() ? "" : ", e.g. --" + option + " " + example));
        return cl.getOptionValue(option);
    }

    List<String> values(String option) {
        String[] v = cl.getOptionValues(option);
        return v == null ? List.of() : List.of(v);
    }

    /**
     * The positional arguments, exactly {@code names.length} of them (e.g. "IN", "OUT").
     *
     * @throws UsageException naming what is missing or extra
     */
    List<String> positionals(String... names) {
        List<String> got = cl.getArgList();
        if (got.size() == names.length) return got;
        String want = names.length == 0 ? "no arguments" : String.join(" and ", names);
        if (got.size() < names.length) {
            throw new UsageException("missing " + String.join(" and ", List.of(names).subList(got.size(), names.length))
                    + " (expected " + want + ")");
        }
        throw new UsageException("unexpected argument" + (got.size() - names.length > 1 ? "s " : " ")
                + String.join(" ", got.subList(names.length, got.size())) + " (expected " + want + ")");
    }

    int integer(String option, int dflt, int min, int max) {
        if (!cl.hasOption(option)) return dflt;
        long x = longValue(option, dflt);
        if (x < min || x > max) throw new UsageException("--" + option + " must be " + range(min, max) + ", got " + x);
        return (int) x;
    }

    int integer(String option, int dflt, int min) {
        return integer(option, dflt, min, Integer.MAX_VALUE);
    }

    long longValue(String option, long dflt) {
        if (!cl.hasOption(option)) return dflt;
        String v = cl.getOptionValue(option).trim();
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + option + " expects an integer, got '" + v + "'");
        }
    }

    /** A number in [min, max] (NaN is refused). */
    double number(String option, double dflt, double min, double max) {
        if (!cl.hasOption(option)) return dflt;
        String v = cl.getOptionValue(option).trim();
        double x;
        try {
            x = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + option + " expects a number, got '" + v + "'");
        }
        if (!(x >= min && x <= max)) throw new UsageException("--" + option + " must be in [" + fmt(min) + ", " + fmt(max) + "], got " + v);
        return x;
    }

    /** A fraction written {@code 0.5} or {@code 50%}, in [lo, hi) when {@code hiOpen}, else [lo, hi]. */
    double fraction(String option, double dflt, double lo, double hi, boolean hiOpen) {
        return fraction(option, dflt, lo, false, hi, hiOpen);
    }

    /** A fraction written {@code 0.5} or {@code 50%} in the interval from lo to hi, either end open. */
    double fraction(String option, double dflt, double lo, boolean loOpen, double hi, boolean hiOpen) {
        if (!cl.hasOption(option)) return dflt;
        String v = cl.getOptionValue(option).trim();
        boolean percent = v.endsWith("%");
        double x;
        try {
            x = Double.parseDouble(percent ? v.substring(0, v.length() - 1).trim() : v) / (percent ? 100 : 1);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + option + " expects a fraction such as 0.5 or 50%, got '" + v + "'");
        }
        boolean ok = (loOpen ? x > lo : x >= lo) && (hiOpen ? x < hi : x <= hi);
        if (!ok) {
            throw new UsageException("--" + option + " must be in " + (loOpen ? "(" : "[") + fmt(lo) + ", " + fmt(hi) + (hiOpen ? ")" : "]") + ", got " + v
                    + (x > 1 && !percent ? " (a fraction: write 0.5 or 50%)" : ""));
        }
        return x;
    }

    /**
     * One of {@code choices} (case-insensitive), lower-cased; {@code dflt} when absent (null: required).
     * A misspelling is refused with the nearest choice: {@code --method gptqq: unknown; did you mean gptq?}.
     */
    String choice(String option, String dflt, List<String> choices) {
        String v = cl.getOptionValue(option, dflt);
        if (v == null) throw new UsageException("--" + option + " is required: one of " + String.join(", ", choices));
        String lower = v.trim().toLowerCase(Locale.ROOT);
        if (choices.contains(lower)) return lower;
        throw new UsageException("--" + option + " " + v + ": unknown" + Suggest.didYouMean(lower, choices)
                + " (expected one of " + String.join(", ", choices) + ")");
    }

    /** An integer that must be one of {@code allowed}, e.g. {@code --bits 2|3|4|8}. */
    int integerChoice(String option, int dflt, List<Integer> allowed) {
        int x = integer(option, dflt, Integer.MIN_VALUE, Integer.MAX_VALUE);
        if (!allowed.contains(x)) {
            throw new UsageException("--" + option + " " + x + ": not supported (expected one of "
                    + String.join(", ", allowed.stream().map(String::valueOf).toList()) + ")");
        }
        return x;
    }

    /** An existing model/checkpoint directory given by {@code --option}. */
    Path modelDir(String option) {
        return inputDir("--" + option, Path.of(required(option, "DIR")));
    }

    /**
     * A model the runtime reads as it is, given by {@code --option}: a checkpoint directory, or a
     * llama {@code .gguf} file read in place (mapped; {@code GgufCheckpoint}), with no converted copy.
     */
    Path modelInput(String option) {
        Path p = Path.of(required(option, "DIR"));
        if (GgufFile.looksLikeGguf(p)) return p;
        return inputDir("--" + option, p);
    }

    /**
     * An existing input directory; {@code label} is the flag or the argument name (IN). A GGUF file is
     * accepted too and read through a converted copy ({@link GgufInput}): the compression commands
     * read checkpoints as directories. eval and generate read a GGUF file in place ({@link #modelInput}).
     */
    static Path inputDir(String label, Path p) {
        if (!Files.exists(p)) throw new ShrinkException(label + " " + p + ": no such directory");
        if (GgufFile.looksLikeGguf(p)) return GgufInput.asCheckpointDir(label, p);
        if (!Files.isDirectory(p)) throw new ShrinkException(label + " " + p + ": not a directory (give the checkpoint's directory or a .gguf file)");
        return p;
    }

    /**
     * The output directory of a command that writes a checkpoint: never the input, and refused when it
     * exists unless {@code --force} (both usage errors: the command line has to change).
     */
    Path output(Path in, String out) {
        Path p = Path.of(out);
        Path absOut = p.toAbsolutePath().normalize();
        Path absIn = in.toAbsolutePath().normalize();
        if (absOut.equals(absIn)) {
            throw new UsageException("OUT " + out + " is IN: write to a new directory (the input is never modified)");
        }
        if (absOut.startsWith(absIn)) {
            throw new UsageException("OUT " + out + " is inside IN " + in + ": write outside the input (the input is never modified)");
        }
        if (absIn.startsWith(absOut)) {
            // --force would delete the input with the old output.
            throw new UsageException("OUT " + out + " contains IN " + in + ": write to a directory that does not hold the input");
        }
        if (Files.exists(p) && !Files.isDirectory(p)) {
            // Even with --force: replacing a file the user named by mistake with a directory is not ours to do.
            throw new UsageException("OUT " + out + " is a file, not a directory: name a new directory");
        }
        if (Files.exists(p) && !cl.hasOption("force")) {
            throw new UsageException("OUT " + out + " already exists (add --force to replace it)");
        }
        return p;
    }

    /** The text file named by {@code --option}, read as UTF-8 (see {@link #readText}). */
    String text(String option) {
        return readText("--" + option, Path.of(required(option, "FILE")));
    }

    /**
     * The one text reader: a UTF-8 file that exists and is not blank.
     *
     * @param label the flag that named it, e.g. {@code --calib}
     */
    static String readText(String label, Path file) {
        if (!Files.exists(file)) throw new ShrinkException(label + " " + file + ": no such file");
        if (!Files.isRegularFile(file)) throw new ShrinkException(label + " " + file + ": not a regular file");
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new ShrinkException(label + " " + file + ": not UTF-8 text", e);
        } catch (IOException e) {
            throw new ShrinkException(label + " " + file + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (text.isBlank()) throw new ShrinkException(label + " " + file + ": the text is empty");
        return text;
    }

    private static String range(long min, long max) {
        if (max == Integer.MAX_VALUE) return "at least " + min;
        if (min == Integer.MIN_VALUE) return "at most " + max;
        return "in [" + min + ", " + max + "]";
    }

    private static String fmt(double x) {
        if (x == Double.POSITIVE_INFINITY) return "∞";
        if (x == Math.rint(x) && Math.abs(x) < 1e15) return Long.toString((long) x);
        return Double.toString(x);
    }

    /** {@code --activations f32|int8} (default f32): what compressed linears multiply their weights with. */
    dev.shrink4j.tensors.formats.ActivationPrecision activations() {
        String v = cl.getOptionValue("activations", "f32");
        dev.shrink4j.tensors.formats.ActivationPrecision p = dev.shrink4j.tensors.formats.ActivationPrecision.parse(v);
        if (p == null) throw new UsageException("--activations must be f32 or int8, got '" + v + "'");
        return p;
    }

    /** The {@code --activations} option, for commands that run a model. */
    static org.apache.commons.cli.Option activationsOption() {
        return org.apache.commons.cli.Option.builder().longOpt("activations").hasArg().argName("f32|int8")
                .desc("activations of compressed linears: f32 (default) or int8 blocks of 32 with integer dots (uniform 4/8-bit weights)").build();
    }
}
