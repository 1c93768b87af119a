package dev.shrink4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Samples the process's anonymous memory (RssAnon of /proc/self/status: heap + off-heap allocations,
 * DESIGN.md "Memory") on a daemon thread and keeps the peak. The kernel reports only the current
 * RssAnon, so the peak is the highest sample; {@link #sample()} can also be called at stage ends.
 * Mapped checkpoint pages are RssFile and are reported separately. On systems without /proc the
 * figures stay -1.
 */
public final class PeakMemory implements AutoCloseable {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final long PERIOD_MS = 50;
    private volatile long peakAnon = -1;
    private volatile long peakFile = -1;
    private final Thread thread;
    private volatile boolean running = true;

    public PeakMemory() {
        sample();
        thread = Thread.ofPlatform().daemon().name("shrink4j-rss").start(() -> {
            while (running) {
                sample();
                try {
                    Thread.sleep(PERIOD_MS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    /** Reads the current RssAnon/RssFile and raises the peaks. */
    public void sample() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("RssAnon:")) peakAnon = Math.max(peakAnon, kib(line) * 1024);
                else if (line.startsWith("RssFile:")) peakFile = Math.max(peakFile, kib(line) * 1024);
            }
        } catch (IOException | RuntimeException e) {
            // No /proc: the figures stay -1 and the report says "unknown".
        }
    }

    private static long kib(String line) {
        String[] parts = line.trim().split("\\s+");
        return Long.parseLong(parts[1]);
    }

    /** Peak anonymous memory in bytes, or -1. */
    public long peakAnonBytes() {
        return peakAnon;
    }

    /** Peak file-backed resident memory (mapped checkpoints, page cache) in bytes, or -1. */
    public long peakFileBytes() {
        return peakFile;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        sample();
    }
}
