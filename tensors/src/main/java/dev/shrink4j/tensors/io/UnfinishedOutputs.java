package dev.shrink4j.tensors.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The temporary directories of writers that have not committed yet, removed by a shutdown hook when
 * the JVM exits early (Ctrl-C / SIGINT, SIGTERM, {@code System.exit} from elsewhere): a user who
 * interrupts a run finds no hidden {@code .OUT.tmp-*} directory beside the output. A writer that
 * commits or closes takes its directory off the list first, so a normal exit removes nothing.
 * (kill -9 and power loss run no hook; what they leave is hidden and named {@code .tmp-}.)
 */
public final class UnfinishedOutputs {
    private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();
    private static volatile boolean hooked;

    private UnfinishedOutputs() {}

    /** Removes {@code temp} (a directory) if the JVM exits before {@link #remove} is called for it. */
    public static void add(Path temp) {
        if (!hooked) install();
        PENDING.add(temp);
    }

    public static void remove(Path temp) {
        PENDING.remove(temp);
    }

    private static synchronized void install() {
        if (hooked) return;
        Runtime.getRuntime().addShutdownHook(new Thread(UnfinishedOutputs::removeAll, "shrink4j-unfinished-outputs"));
        hooked = true;
    }

    private static void removeAll() {
        for (Path temp : PENDING) {
            // The writing thread is still running while hooks run and may add a file mid-walk: retry.
            for (int attempt = 0; attempt < 20; attempt++) {
                try {
                    CheckpointWriter.deleteTree(temp);
                    break;
                } catch (IOException | UncheckedIOException e) {
                    Thread.onSpinWait();
                }
            }
            if (temp.getFileName().toString().endsWith(".resume")) continue; // a run's resume state goes with its output, said once
            String target = temp.getFileName().toString().replaceFirst("^\\.", "").replaceFirst("\\.tmp-[^.]*$", "");
            System.err.println("shrink4j: interrupted: the unfinished output " + temp.resolveSibling(target) + " was removed");
        }
    }
}
