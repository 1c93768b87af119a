package dev.shrink4j.tensors.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The hidden {@code .OUT.tmp-*} directories that a killed writer (kill -9, power loss, OOM kill) left
 * behind: no shutdown hook ran for them. Each temporary directory records its owner ({@code pid},
 * process start time, host) in {@link #OWNER_FILE}; a later run for the same OUT removes those whose
 * owner is gone from this host. A directory from another host (a shared file system) or whose owner
 * still runs is left alone.
 *
 * <p>The owner file cannot be written in the same instant the directory is made, and a finished
 * output drops it just before its rename: a kill in either window leaves a directory without it. So
 * the directories are also named after their owner's pid ({@code .OUT.tmp-PID-…}, made by
 * {@link #createTempDirectory}); without an owner file that pid decides (gone from this host:
 * abandoned). A directory with neither is left alone.
 */
public final class AbandonedOutputs {
    public static final String OWNER_FILE = ".shrink4j-owner";
    /** What follows {@code .OUT.tmp-} in a temporary directory's name: {@code [kind-]PID[-…]}. */
    private static final java.util.regex.Pattern OWNER_PID = java.util.regex.Pattern.compile("(?:[a-z]+-)?(\\d+)(?:-.*)?");

    private AbandonedOutputs() {}

    /** Marks {@code temp} as this process's. */
    public static void claim(Path temp) throws IOException {
        ProcessHandle self = ProcessHandle.current();
        String start = self.info().startInstant().map(Instant::toString).orElse("?");
        Files.writeString(temp.resolve(OWNER_FILE), self.pid() + " " + start + " " + host() + "\n");
    }

    /**
     * Creates and claims a hidden temporary directory {@code .NAME.tmp-[kind-]PID-RANDOM} beside
     * {@code target}; {@code kind} (may be empty) tells what it holds.
     */
    public static Path createTempDirectory(Path target, String kind) throws IOException {
        String prefix = "." + target.getFileName() + ".tmp-" + (kind.isEmpty() ? "" : kind + "-") + ProcessHandle.current().pid() + "-";
        Path temp = Files.createTempDirectory(target.toAbsolutePath().getParent(), prefix);
        claim(temp);
        return temp;
    }

    /** Removes the abandoned temporary directories of output {@code outDir}; returns what it removed. */
    public static List<Path> remove(Path outDir) {
        Path target = outDir.toAbsolutePath().normalize();
        Path parent = target.getParent();
        List<Path> removed = new ArrayList<>();
        if (parent == null || !Files.isDirectory(parent)) return removed;
        String prefix = "." + target.getFileName() + ".tmp-";
        try (Stream<Path> s = Files.list(parent)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(prefix) && Files.isDirectory(p)).toList()) {
                if (abandoned(p) || ownerless(p, prefix)) {
                    CheckpointWriter.deleteTree(p);
                    removed.add(p);
                }
            }
        } catch (IOException e) {
            // Best effort: a directory we cannot list or remove is left as it was.
        }
        return removed;
    }

    /**
     * Whether {@code temp} (a directory with an owner file) belongs to a process that is gone from this
     * host: false without an owner file, for another host, or while the owner runs.
     */
    public static boolean abandoned(Path temp) {
        String[] owner;
        try {
            owner = Files.readString(temp.resolve(OWNER_FILE), StandardCharsets.UTF_8).strip().split(" ");
        } catch (IOException e) {
            return false;
        }
        if (owner.length != 3 || !owner[2].equals(host())) return false;
        long pid;
        try {
            pid = Long.parseLong(owner[0]);
        } catch (NumberFormatException e) {
            return false;
        }
        Optional<ProcessHandle> p = ProcessHandle.of(pid);
        // Alive with the recorded start time: still writing. A reused pid has another start time.
        return p.isEmpty() || !p.get().info().startInstant().map(Instant::toString).orElse("?").equals(owner[1]);
    }

    /**
     * A directory without an owner file whose name ({@code PREFIX[kind-]PID[-…]}) names a pid that no
     * longer runs here: killed between making it and claiming it, or between unclaiming and renaming.
     */
    static boolean ownerless(Path temp, String prefix) {
        if (Files.exists(temp.resolve(OWNER_FILE))) return false;
        java.util.regex.Matcher m = OWNER_PID.matcher(temp.getFileName().toString().substring(prefix.length()));
        if (!m.matches()) return false;
        try {
            return ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty();
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String host() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException | RuntimeException e) {
            String h = System.getenv("HOSTNAME");
            return h == null || h.isBlank() ? "localhost" : h.strip();
        }
    }
}
