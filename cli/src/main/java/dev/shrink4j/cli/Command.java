package dev.shrink4j.cli;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/**
 * One {@code shrink4j} subcommand. {@link Main} parses the options, handles {@code --help} and
 * {@code --debug}, and maps exceptions to exit codes; a command only does its job.
 */
public interface Command {
    /** The word after {@code shrink4j}, e.g. {@code inspect}. */
    String name();

    /** One line for the command list. */
    String summary();

    /** Positional arguments for the usage line, e.g. {@code "IN OUT"}; empty (the default) when none. */
    default String arguments() {
        return "";
    }

    /** The command's options ({@code --help} and {@code --debug} are added by Main). */
    Options options();

    /**
     * True for commands that run kernels: {@link Main} gives them {@code --device auto|cpu|cuda}.
     */
    default boolean computes() {
        return true;
    }

    /** Extra text printed after the options in {@code --help} (protocols, examples); may be empty. */
    default String footer() {
        return "";
    }

    /**
     * Runs the command. Throw {@link UsageException} for bad flags or arguments (exit 2) and
     * {@link dev.shrink4j.tensors.ShrinkException} for bad data (exit 1).
     *
     * @return the exit status, normally 0
     */
    int run(CommandLine cl, Console console) throws Exception;
}
