package dev.shrink4j.tensors.kernels;

import dev.shrink4j.tensors.Parallel;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * Chooses the {@link Kernels} implementation once per JVM, Lucene-style: the Panama class is loaded
 * by name only after checking that {@code jdk.incubator.vector} is in the boot layer, so incubator
 * classes are never linked when the module is absent. {@code -Dshrink4j.kernels=scalar|panama|cuda|cuda:N}
 * forces a choice (forcing panama without the module, or cuda without a usable device N, default 0, is
 * an error).
 * The CUDA implementation ({@code dev.shrink4j.cuda.CudaKernels}, module {@code native}) is loaded by
 * name too, so this module never links it; it wraps the CPU choice and sends only large products to
 * the device. An application (the CLI's {@code --device}) may replace the choice with {@link #use}.
 */
public final class KernelsProvider {
    /** System property that forces an implementation. */
    public static final String PROPERTY = "shrink4j.kernels";
    private static final String PANAMA_CLASS = "dev.shrink4j.tensors.kernels.panama.PanamaKernels";
    private static final String CUDA_CLASS = "dev.shrink4j.cuda.CudaKernels";
    private static final Logger LOG = Logger.getLogger(KernelsProvider.class.getName());

    private KernelsProvider() {}

    private static final class Holder {
        static final Kernels INSTANCE = choose(System.getProperty(PROPERTY, ""));
    }

    private static volatile Kernels override;

    /** The implementation chosen for this JVM, using {@link Parallel#threads()} workers. */
    public static Kernels get() {
        Kernels o = override;
        return o != null ? o : Holder.INSTANCE;
    }

    /**
     * Makes {@link #get()} return {@code k} from now on ({@code null}: the property's choice again);
     * returns the previous override (null when there was none) so a caller can restore it. Classes
     * that keep {@code Kernels.get()} in a static field see the choice made before they load: call
     * this first thing (the CLI does, before running a command).
     */
    public static Kernels use(Kernels k) {
        Kernels previous = override;
        override = k;
        return previous;
    }

    /** True when {@code -Dshrink4j.kernels} names an implementation. */
    public static boolean forced() {
        return !System.getProperty(PROPERTY, "").isBlank();
    }

    /** The CPU implementation: the forced one when the property names scalar or panama, else the default. */
    public static Kernels cpu() {
        String p = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
        return choose(p.equals("scalar") || p.equals("panama") ? p : "");
    }

    /**
     * The CUDA implementation over {@code cpu}, loaded by name.
     *
     * @throws UnsupportedOperationException with one line saying why (no native module on the class
     *     path, no driver, no device, a driver too old for the PTX)
     */
    public static Kernels cuda(Kernels cpu) {
        return cuda(cpu, 0);
    }

    /** As {@link #cuda(Kernels)} on device {@code ordinal} (the driver's numbering, as {@code shrink4j devices} lists it). */
    public static Kernels cuda(Kernels cpu, int ordinal) {
        Class<?> cls;
        try {
            cls = Class.forName(CUDA_CLASS);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new UnsupportedOperationException("the native module (shrink4j-native) is not on the class path");
        }
        try {
            return (Kernels) cls.getConstructor(Kernels.class, int.class).newInstance(cpu, ordinal);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new UnsupportedOperationException(e.getCause().getMessage(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot load " + CUDA_CLASS, e);
        }
    }

    /**
     * The device index a device name selects: {@code cuda} → 0, {@code cuda:N} → N.
     *
     * @throws IllegalArgumentException for anything else ({@code cuda:x}, {@code cuda:-1}, {@code cuda:})
     */
    public static int cudaOrdinal(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("cuda")) return 0;
        if (n.startsWith("cuda:") && n.substring(5).matches("\\d{1,9}")) return Integer.parseInt(n.substring(5));
        throw new IllegalArgumentException(name.trim() + ": expected cuda or cuda:N, N a device index (0, 1, …; see shrink4j devices)");
    }

    /** The scalar reference. */
    public static Kernels scalar() {
        return new ScalarKernels(Parallel.threads());
    }

    /** True when the Vector API module is readable in this JVM. */
    public static boolean vectorApiAvailable() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** The Vector API implementation; throws {@link UnsupportedOperationException} when unavailable. */
    public static Kernels panama() {
        if (!vectorApiAvailable()) {
            throw new UnsupportedOperationException("the Vector API is not available: start the JVM with --add-modules jdk.incubator.vector");
        }
        try {
            var lookup = MethodHandles.lookup();
            Class<?> cls = lookup.findClass(PANAMA_CLASS);
            return (Kernels) lookup.findConstructor(cls, MethodType.methodType(void.class, int.class)).invoke(Parallel.threads());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot load " + PANAMA_CLASS, t);
        }
    }

    static Kernels choose(String forced) {
        String f = forced.trim().toLowerCase(Locale.ROOT);
        if (f.startsWith("cuda:")) {
            int ordinal;
            try {
                ordinal = cudaOrdinal(f);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("-D" + PROPERTY + "=" + e.getMessage());
            }
            try {
                return cuda(choose(""), ordinal);
            } catch (UnsupportedOperationException e) {
                throw new IllegalArgumentException("-D" + PROPERTY + "=" + f + ": " + e.getMessage());
            }
        }
        switch (f) {
            case "scalar":
                return scalar();
            case "panama":
                return panama();
            case "cuda":
                try {
                    return cuda(choose(""));
                } catch (UnsupportedOperationException e) {
                    throw new IllegalArgumentException("-D" + PROPERTY + "=cuda: " + e.getMessage());
                }
            case "":
                if (vectorApiAvailable()) {
                    return panama();
                }
                LOG.fine("jdk.incubator.vector not in the boot layer; using scalar kernels (add --add-modules jdk.incubator.vector)");
                return scalar();
            default:
                throw new IllegalArgumentException("-D" + PROPERTY + "=" + forced + ": expected scalar, panama, cuda or cuda:N");
        }
    }
}
