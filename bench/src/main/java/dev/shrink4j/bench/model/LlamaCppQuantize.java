package dev.shrink4j.bench.model;

import dev.shrink4j.tensors.testing.LlamaCpp;
import java.nio.file.Path;

/**
 * {@code llama_model_quantize} as a command, for the benchmark files (bench/tinyllama-prepare.sh):
 * {@code LlamaCppQuantize IN.gguf OUT.gguf FTYPE [THREADS]}, FTYPE one of {@link LlamaCpp.FileType}
 * (e.g. Q4_K_M). llama.cpp's libraries are fetched and cached as for the tests.
 */
public final class LlamaCppQuantize {
    private LlamaCppQuantize() {}

    public static void main(String[] args) {
        if (args.length < 3 || args.length > 4) {
            System.err.println("usage: LlamaCppQuantize IN.gguf OUT.gguf FTYPE [THREADS]");
            System.exit(2);
        }
        LlamaCpp.FileType ft;
        try {
            ft = LlamaCpp.FileType.valueOf(args[2]);
        } catch (IllegalArgumentException e) {
            System.err.println("unknown FTYPE " + args[2] + " (one of " + java.util.Arrays.toString(LlamaCpp.FileType.values()) + ")");
            System.exit(2);
            return;
        }
        LlamaCpp.quantize(Path.of(args[0]), Path.of(args[1]), ft, args.length == 4 ? Integer.parseInt(args[3]) : 2);
    }
}
