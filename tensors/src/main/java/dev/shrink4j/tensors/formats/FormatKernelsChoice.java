package dev.shrink4j.tensors.formats;

import java.util.Locale;
import java.util.Optional;

/** Chooses the {@link FormatKernels} once per JVM (Lucene's VectorizationProvider pattern). */
final class FormatKernelsChoice {
    static final Optional<FormatKernels> PANAMA = loadPanama();
    static final FormatKernels INSTANCE = choose();

    private FormatKernelsChoice() {}

    private static Optional<FormatKernels> loadPanama() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return Optional.empty();
        }
        try {
            Class<?> c = Class.forName(FormatKernels.PANAMA_CLASS);
            return Optional.of((FormatKernels) c.getConstructor().newInstance());
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static FormatKernels choose() {
        String p = System.getProperty("shrink4j.kernels", "").toLowerCase(Locale.ROOT);
        if (p.equals("scalar")) {
            return ScalarFormatKernels.INSTANCE;
        }
        if (p.equals("panama") && PANAMA.isEmpty()) {
            throw new IllegalStateException("shrink4j.kernels=panama but the Vector API is unavailable (run with --add-modules jdk.incubator.vector on a CPU with 128-bit or wider SIMD)");
        }
        return PANAMA.orElse(ScalarFormatKernels.INSTANCE);
    }
}
