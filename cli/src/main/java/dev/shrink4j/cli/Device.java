package dev.shrink4j.cli;

import dev.shrink4j.cuda.Cuda;
import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.kernels.Kernels;
import dev.shrink4j.tensors.kernels.KernelsProvider;
import java.util.List;
import java.util.Locale;
import org.apache.commons.cli.Option;

/**
 * {@code --device auto|cpu|cuda|cuda:N}, taken by every command that computes (added by {@link Main}).
 * It chooses both SPIs: the dense {@link Kernels} (GEMM, SYRK: compression) and the {@link
 * FormatKernels} (matvec/matmul of compressed weights: eval, generate, serve). {@code cpu}: the CPU
 * kernels. {@code cuda} (device 0) or {@code cuda:N} (device N, as {@code shrink4j devices} numbers
 * them): the CUDA kernels, or a usage error saying why there are none (exit 2). {@code auto} (default):
 * CUDA device 0 when a usable one is found and no {@code -Dshrink4j.kernels} forces a choice, else the
 * CPU, silently; the CUDA kernels themselves send only work large enough to pay for the copies to the
 * device.
 */
final class Device {
    static final String OPTION = "device";
    static final List<String> CHOICES = List.of("auto", "cpu", "cuda");

    private Device() {}

    /** The overrides a selection replaced, to put back when the command ends ({@link #restore}). */
    record Previous(Kernels kernels, FormatKernels formats) {}

    static Option option() {
        return Option.builder().longOpt(OPTION).hasArg().argName("D")
                .desc("where the kernels run: auto (default: CUDA when present), cpu, cuda (device 0) or cuda:N").build();
    }

    /** The option's value: auto, cpu, cuda or cuda:N (lower-cased); a usage error for anything else. */
    static String parse(Args args) {
        String v = args.string(OPTION, "auto").trim().toLowerCase(Locale.ROOT);
        if (v.startsWith("cuda:")) {
            try {
                KernelsProvider.cudaOrdinal(v);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--" + OPTION + " " + e.getMessage());
            }
            return v;
        }
        return args.choice(OPTION, "auto", CHOICES);
    }

    /**
     * Makes the kernels of {@code device} the ones {@link Kernels#get()} and {@link FormatKernels#get()}
     * return (both, or neither when CUDA cannot be used).
     *
     * @return the previous overrides, for {@link #restore} when the command ends
     */
    static Previous select(String device) {
        if (device.equals("cpu")) {
            return use(KernelsProvider.cpu(), FormatKernels.cpu());
        }
        if (device.startsWith("cuda")) {
            int ordinal = KernelsProvider.cudaOrdinal(device);
            try {
                return use(KernelsProvider.cuda(KernelsProvider.cpu(), ordinal), FormatKernels.cuda(FormatKernels.cpu(), ordinal));
            } catch (UnsupportedOperationException e) {
                throw new UsageException("--" + OPTION + " " + device + ": no usable CUDA device: " + e.getMessage());
            }
        }
        if (KernelsProvider.forced() || !(Cuda.probe() instanceof Cuda.Found)) {
            return use(null, null);
        }
        try {
            return use(KernelsProvider.cuda(KernelsProvider.cpu(), 0), FormatKernels.cuda(FormatKernels.cpu(), 0));
        } catch (UnsupportedOperationException e) {
            // a device that cannot run our PTX: auto means the CPU, without a word
            return use(null, null);
        }
    }

    private static Previous use(Kernels k, FormatKernels f) {
        return new Previous(KernelsProvider.use(k), FormatKernels.use(f));
    }

    /** Puts back what {@link #select} replaced. */
    static void restore(Previous p) {
        KernelsProvider.use(p.kernels());
        FormatKernels.use(p.formats());
    }
}
