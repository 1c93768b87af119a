package dev.shrink4j.cli;

import java.io.PrintStream;
import java.time.Duration;

/**
 * Progress lines on stderr for long compression runs: {@code [stage] what i/N, elapsed, ETA}. One line
 * per step (a step is a layer or a block, seconds apart), so logs and terminals both read well.
 * {@code quiet} turns it off (tests).
 */
public final class Progress {
    private final PrintStream err;
    private final boolean quiet;
    private String stage = "";
    private int total;
    private long stageStart;

    public Progress(PrintStream err, boolean quiet) {
        this.err = err;
        this.quiet = quiet;
    }

    /** Starts a stage of {@code total} steps (0 when the count is unknown). */
    public void stage(String name, int total) {
        this.stage = name;
        this.total = total;
        this.stageStart = System.nanoTime();
        if (!quiet) err.println("[" + name + "] started");
    }

    /** Step {@code done} of the stage's total has finished; {@code what} names it (e.g. a layer). */
    public void step(int done, String what) {
        if (quiet) return;
        long elapsed = System.nanoTime() - stageStart;
        StringBuilder sb = new StringBuilder().append('[').append(stage).append("] ").append(what);
        if (total > 0) {
            sb.append(' ').append(done).append('/').append(total);
            if (done > 0 && done < total) {
                sb.append(", ETA ").append(format(Duration.ofNanos(elapsed / done * (total - done))));
            }
        }
        sb.append(", ").append(format(Duration.ofNanos(elapsed))).append(" elapsed");
        err.println(sb);
    }

    /** A free-form note (a warning or a result line) in the progress stream. */
    public void note(String text) {
        if (!quiet) err.println(text);
    }

    static String format(Duration d) {
        long s = d.toSeconds();
        if (s >= 3600) return String.format("%dh%02dm", s / 3600, (s % 3600) / 60);
        if (s >= 60) return String.format("%dm%02ds", s / 60, s % 60);
        return String.format("%.1fs", d.toMillis() / 1000.0);
    }
}
