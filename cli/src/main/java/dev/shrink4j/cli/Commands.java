package dev.shrink4j.cli;

import java.util.List;

/** The registry of subcommands, in the order {@code shrink4j --help} lists them. One line per command. */
final class Commands {
    private Commands() {}

    static List<Command> all() {
        return List.of(
                new InspectCommand(),
                new QuantizeCommand(),
                new PqiCommand(),
                new EvalCommand(),
                new GenerateCommand(),
                new SynthCommand(),
                new PruneCommand(),
                new SparsityCommand(),
                new LowrankCommand(),
                new DevicesCommand(),
                new ConvertCommand(),
                new RunCommand(),
                new TrainCommand());
    }
}
