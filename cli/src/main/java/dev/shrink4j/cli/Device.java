package dev.shrink4j.cli;

import dev.shrink4j.cuda.Cuda;
import dev.shrink4j.tensors.kernels.Kernels;
import dev.shrink4j.tensors.kernels.KernelsProvider;
import java.util.List;
import org.apache.commons.cli.Option;

/**
 * {@code --device auto|cpu|cuda}, taken by every command that computes (added by {@link Main}).
 * {@code cpu}: the CPU kernels. {@code cuda}: the CUDA kernels, or a usage error saying why there
 * are none (exit 2). {@code auto} (default): CUDA when a usable device is found and no
 * {@code -Dshrink4j.kernels} forces a choice, else the CPU, silently; the CUDA kernels themselves send
 * only products large enough to pay for the copies to the device.
 */
final class Device {
    static final String OPTION = "device";
    static final List<String> CHOICES = List.of("auto", "cpu", "cuda");

    private Device() {}

    static Option option() {
        return Option.builder().longOpt(OPTION).hasArg().argName("D")
                .desc("where the kernels run: auto (default: CUDA when present), cpu or cuda").build();
    }

    /**
     * Makes the kernels of {@code device} the ones {@link Kernels#get()} returns.
     *
     * @return the previous override, to hand back to {@link KernelsProvider#use} when the command ends
     */
    static Kernels select(String device) {
        return switch (device) {
            case "cpu" -> KernelsProvider.use(KernelsProvider.cpu());
            case "cuda" -> {
                try {
                    yield KernelsProvider.use(KernelsProvider.cuda(KernelsProvider.cpu()));
                } catch (UnsupportedOperationException e) {
                    throw new UsageException("--device cuda: no usable CUDA device: " + e.getMessage());
                }
            }
            default -> {
                if (KernelsProvider.forced() || !(Cuda.probe() instanceof Cuda.Found)) {
                    yield KernelsProvider.use(null);
                }
                Kernels chosen = null;
                try {
                    chosen = KernelsProvider.cuda(KernelsProvider.cpu());
                } catch (UnsupportedOperationException e) {
                    // a device that cannot run our PTX: auto means the CPU, without a word
                }
                yield KernelsProvider.use(chosen);
            }
        };
    }
}
