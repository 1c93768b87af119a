package dev.shrink4j.tensors.formats;

import java.util.Locale;
import java.util.Optional;

/** Chooses the {@link FormatKernels} once per JVM (Lucene's VectorizationProvider pattern). */
final class FormatKernelsChoice {
    static final Optional<FormatKernels> PANAMA = loadPanama();
    static final String CUDA_CLASS = "dev.shrink4j.cuda.CudaFormatKernels";
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
        if (p.equals("cuda")) {
            // dev.shrink4j.cuda.CudaFormatKernels (module native), loaded by name; Kernels refuses a forced
            // cuda without a device first, so failing here only means the class is not on the class path.
            try {
                Class<?> c = Class.forName(CUDA_CLASS);
                return (FormatKernels) c.getConstructor(FormatKernels.class).newInstance(PANAMA.orElse(ScalarFormatKernels.INSTANCE));
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                throw new IllegalStateException("shrink4j.kernels=cuda but " + CUDA_CLASS + " cannot be used: " + e);
            }
        }
        if (p.equals("panama") && PANAMA.isEmpty()) {
            throw new IllegalStateException("shrink4j.kernels=panama but the Vector API is unavailable (run with --add-modules jdk.incubator.vector on a CPU with 128-bit or wider SIMD)");
        }
        return PANAMA.orElse(ScalarFormatKernels.INSTANCE);
    }
}
