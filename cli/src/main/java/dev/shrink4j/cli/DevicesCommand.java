package dev.shrink4j.cli;

import dev.shrink4j.cuda.Cuda;
import dev.shrink4j.cuda.DeviceInfo;
import dev.shrink4j.tensors.kernels.KernelsProvider;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/** {@code shrink4j devices}: the CPU kernels and the CUDA devices found, or in one line why there are none. */
final class DevicesCommand implements Command {
    @Override
    public String name() {
        return "devices";
    }

    @Override
    public String summary() {
        return "list the CPU kernels and CUDA devices shrink4j can use";
    }


    @Override
    public boolean computes() {
        return false;
    }

    @Override
    public Options options() {
        return new Options();
    }

    @Override
    public int run(CommandLine cl, Console console) {
        new Args(cl).positionals();
        var cpu = KernelsProvider.cpu();
        console.out().println("cpu: " + cpu.name() + " kernels, " + cpu.threads() + " threads");
        switch (Cuda.probe()) {
            case Cuda.Found f -> {
                console.out().println("cuda: driver " + f.driverVersionText() + " (" + f.library() + "), "
                        + f.devices().size() + (f.devices().size() == 1 ? " device" : " devices"));
                for (DeviceInfo d : f.devices()) {
                    console.out().println("  " + d.ordinal() + ": " + d.describe());
                }
            }
            case Cuda.Absent a -> console.out().println("cuda: none (" + a.reason() + ")");
        }
        return 0;
    }
}
