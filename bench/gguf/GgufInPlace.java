import dev.shrink4j.model.Generator;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Sampler;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One model, one JVM (bench/gguf-inplace.sh runs it per checkpoint, alternating): RssAnon after
 * loading, then greedy decode time per token after a 16-token prompt, best of the rounds.
 *
 * <p>java ... -cp cli/target/shrink4j.jar bench/gguf/GgufInPlace.java MODEL GENERATE ROUNDS
 * prints one tab-separated line: model, RssAnon MiB before and after loading, MiB the GGUF reader copied
 * off-heap (Q/K rows, widened K-quants), RssAnon MiB after the runs, RssFile
 * MiB after the runs (the mapped weights touched), decode ms/token (best, median).
 */
public class GgufInPlace {
    public static void main(String[] a) throws Exception {
        Path model = Path.of(a[0]);
        int generate = Integer.parseInt(a[1]), rounds = Integer.parseInt(a[2]);
        try (Arena arena = Arena.ofShared()) {
            long anon0 = status("RssAnon");
            LlamaModel m = LlamaModel.load(model, arena);
            long anonLoad = status("RssAnon");
            int[] prompt = new int[16];
            prompt[0] = 1;
            for (int i = 1; i < prompt.length; i++) prompt[i] = 100 + (i * 7919) % 30000;
            double[] ms = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                long[] first = {0};
                int[] out = new Generator(m).generate(prompt, generate, Sampler.greedy(), t -> { if (first[0] == 0) first[0] = System.nanoTime(); });
                ms[r] = (System.nanoTime() - first[0]) / 1e6 / (out.length - 1);
            }
            long anonRun = status("RssAnon"), file = status("RssFile");
            java.util.Arrays.sort(ms);
            double copied = m.weights() instanceof dev.shrink4j.model.gguf.GgufCheckpoint g ? g.copiedBytes() / 1048576.0 : 0;
            System.out.printf(java.util.Locale.ROOT, "%s\t%.0f\t%.0f\t%.1f\t%.0f\t%.0f\t%.2f\t%.2f%n", model.getFileName(), anon0 / 1024.0, anonLoad / 1024.0,
                    copied, anonRun / 1024.0, file / 1024.0, ms[0], ms[rounds / 2]);
        }
    }

    /** A /proc/self/status field in KiB. */
    static long status(String key) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith(key + ":")) return Long.parseLong(l.replaceAll("\\D", ""));
        }
        return -1;
    }
}
