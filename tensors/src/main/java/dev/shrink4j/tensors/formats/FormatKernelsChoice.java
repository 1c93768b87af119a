package dev.shrink4j.tensors.formats;

import java.util.Locale;
import java.util.Optional;

/**
 * Chooses the {@link FormatKernels} (Lucene's VectorizationProvider pattern): the property's choice is
 * made once, on first use (a holder class, so {@link #use} alone never triggers it); an override set by
 * {@link #use} takes precedence, read from a volatile field on every call.
 */
final class FormatKernelsChoice {
    static final String CUDA_CLASS = "dev.shrink4j.cuda.CudaFormatKernels";

    private static volatile FormatKernels override;

    private FormatKernelsChoice() {}

    private static final class Holder {
        static final FormatKernels INSTANCE = choose();
    }

    /** Loaded on first need, not by {@link #use}: loading it starts the kernels' threads (Parallel), which read their own settings. */
    private static final class Panama {
        static final Optional<FormatKernels> KERNELS = loadPanama();
    }

    static Optional<FormatKernels> panama() {
        return Panama.KERNELS;
    }

    static FormatKernels get() {
        FormatKernels o = override;
        return o != null ? o : Holder.INSTANCE;
    }

    static FormatKernels use(FormatKernels k) {
        FormatKernels previous = override;
        override = k;
        return previous;
    }

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

    static FormatKernels cpu() {
        String p = System.getProperty("shrink4j.kernels", "").trim().toLowerCase(Locale.ROOT);
        return p.equals("scalar") ? ScalarFormatKernels.INSTANCE : panama().orElse(ScalarFormatKernels.INSTANCE);
    }

    static FormatKernels cuda(FormatKernels cpu, int ordinal) {
        Class<?> c;
        try {
            c = Class.forName(CUDA_CLASS);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new UnsupportedOperationException("the native module (shrink4j-native) is not on the class path");
        }
        try {
            return (FormatKernels) c.getConstructor(FormatKernels.class, int.class).newInstance(cpu, ordinal);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new UnsupportedOperationException(e.getCause().getMessage(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot load " + CUDA_CLASS, e);
        }
    }

    private static FormatKernels choose() {
        String p = System.getProperty("shrink4j.kernels", "").trim().toLowerCase(Locale.ROOT);
        if (p.equals("scalar")) {
            return ScalarFormatKernels.INSTANCE;
        }
        if (p.equals("cuda") || p.startsWith("cuda:")) {
            // Kernels refuses a forced cuda without a device, or a bad index, first (KernelsProvider), so
            // failing here means the class is not on the class path or the device went away.
            try {
                return cuda(cpu(), dev.shrink4j.tensors.kernels.KernelsProvider.cudaOrdinal(p));
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                throw new IllegalStateException("shrink4j.kernels=" + p + " but " + CUDA_CLASS + " cannot be used: " + e.getMessage());
            }
        }
        if (p.equals("panama") && panama().isEmpty()) {
            throw new IllegalStateException("shrink4j.kernels=panama but the Vector API is unavailable (run with --add-modules jdk.incubator.vector on a CPU with 128-bit or wider SIMD)");
        }
        return panama().orElse(ScalarFormatKernels.INSTANCE);
    }
}
