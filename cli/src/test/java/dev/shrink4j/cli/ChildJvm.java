package dev.shrink4j.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts {@code shrink4j} in a child JVM with this test JVM's class path, for what an in-process run
 * cannot show: signals, kill -9, a file-size limit.
 */
final class ChildJvm {
    private ChildJvm() {}

    /** The java command line for {@code shrink4j args...}. */
    static List<String> command(String... args) {
        return withHeap("-Xmx512m", args);
    }

    /** The same with the heap option {@code xmx} (as the launcher passes it). */
    static List<String> withHeap(String xmx, String... args) {
        List<String> c = new ArrayList<>();
        c.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        c.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:-UsePerfData",
                "-Xshare:auto", xmx, "-XX:+UseG1GC", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        c.addAll(List.of(args));
        return c;
    }

    /** The same under {@code bash -c 'ulimit -f KIB; exec ...'}: a file-size limit of {@code kib} KiB. */
    static List<String> withFileSizeLimit(int kib, List<String> command) {
        StringBuilder s = new StringBuilder("ulimit -f " + kib + "; exec");
        for (String a : command) s.append(" '").append(a.replace("'", "'\\''")).append('\'');
        return List.of("bash", "-c", s.toString());
    }

    static Process start(List<String> command, Path stderr) throws IOException {
        return new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(stderr.toFile()).start();
    }
}
