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
    private long lastTick;
    /** At most one tick line per second: progress, not a log of every window. */
    private static final long TICK_NANOS = 1_000_000_000L;

    public Progress(PrintStream err, boolean quiet) {
        this.err = err;
        this.quiet = quiet;
    }

    /** Starts a stage of {@code total} steps (0 when the count is unknown). */
    public void stage(String name, int total) {
        this.stage = name;
        this.total = total;
        this.stageStart = System.nanoTime();
        this.lastTick = stageStart;
        if (!quiet) err.println("[" + name + "] started");
    }

    /**
     * Starts a stage without announcing it: for stages that are often short (evaluation), whose
     * {@link #tick} lines appear only once they run longer than a second.
     */
    public void quietStage(String name, int total) {
        this.stage = name;
        this.total = total;
        this.stageStart = System.nanoTime();
        this.lastTick = stageStart;
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

    /**
     * Like {@link #step} for fine-grained steps (evaluation windows, generated tokens): prints at most
     * one line per {@link #TICK_NANOS}, and always the last step.
     */
    public void tick(int done, int total, String unit, String extra) {
        if (quiet) return;
        long now = System.nanoTime();
        if (done < total && now - lastTick < TICK_NANOS) return;
        lastTick = now;
        long elapsed = now - stageStart;
        StringBuilder sb = new StringBuilder().append('[').append(stage).append("] ").append(done).append('/').append(total).append(' ').append(unit);
        if (!extra.isEmpty()) sb.append(", ").append(extra);
        if (done > 0 && done < total) sb.append(", ETA ").append(format(Duration.ofNanos(elapsed / done * (total - done))));
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
