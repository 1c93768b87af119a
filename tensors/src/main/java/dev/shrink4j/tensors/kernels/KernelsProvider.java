package dev.shrink4j.tensors.kernels;

import dev.shrink4j.tensors.Parallel;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * Chooses the {@link Kernels} implementation once per JVM, Lucene-style: the Panama class is loaded
 * by name only after checking that {@code jdk.incubator.vector} is in the boot layer, so incubator
 * classes are never linked when the module is absent. {@code -Dshrink4j.kernels=scalar|panama} forces
 * a choice (forcing panama without the module is an error).
 */
public final class KernelsProvider {
    /** System property that forces an implementation. */
    public static final String PROPERTY = "shrink4j.kernels";
    private static final String PANAMA_CLASS = "dev.shrink4j.tensors.kernels.panama.PanamaKernels";
    private static final Logger LOG = Logger.getLogger(KernelsProvider.class.getName());

    private KernelsProvider() {}

    private static final class Holder {
        static final Kernels INSTANCE = choose(System.getProperty(PROPERTY, ""));
    }

    /** The implementation chosen for this JVM, using {@link Parallel#threads()} workers. */
    public static Kernels get() {
        return Holder.INSTANCE;
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
        switch (forced.trim().toLowerCase(Locale.ROOT)) {
            case "scalar":
                return scalar();
            case "panama":
                return panama();
            case "":
                if (vectorApiAvailable()) {
                    return panama();
                }
                LOG.fine("jdk.incubator.vector not in the boot layer; using scalar kernels (add --add-modules jdk.incubator.vector)");
                return scalar();
            default:
                throw new IllegalArgumentException("-D" + PROPERTY + "=" + forced + ": expected scalar or panama");
        }
    }
}
