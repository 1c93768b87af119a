package dev.shrink4j.cli;

import java.io.PrintStream;

/** Where a command writes: results to {@code out}, progress and warnings to {@code err}. */
public record Console(PrintStream out, PrintStream err) {}
