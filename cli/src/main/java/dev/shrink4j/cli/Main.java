package dev.shrink4j.cli;

import dev.shrink4j.tensors.ShrinkException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.MissingArgumentException;
import org.apache.commons.cli.MissingOptionException;
import org.apache.commons.cli.UnrecognizedOptionException;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/**
 * The {@code shrink4j} command. Exit codes: 0 success, 2 usage error, 1 bad data or failure. User
 * errors print one line on stderr and no stack trace unless {@code --debug} is given.
 */
public final class Main {
    public static final String VERSION = "0.1.0-SNAPSHOT";

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command line; returns the exit status instead of exiting (tests call this). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        boolean debug = Arrays.asList(args).contains("--debug");
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            printOverview(out);
            return args.length == 0 ? 2 : 0;
        }
        if (args[0].equals("--version")) {
            out.println("shrink4j " + VERSION);
            return 0;
        }
        Command command = command(args[0]);
        if (command == null) {
            List<String> names = Commands.all().stream().map(Command::name).toList();
            err.println("shrink4j: unknown command '" + args[0] + "'" + Suggest.didYouMean(args[0], names) + " (commands: "
                    + String.join(", ", names) + "; see shrink4j --help)");
            return 2;
        }
        Options options = optionsOf(command);
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        // Before parsing: a command with required options would otherwise refuse "--help" alone.
        if (Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h")) {
            printHelp(command, options, out);
            return 0;
        }
        Device.Previous previousKernels = null;
        try {
            CommandLine cl = parser().parse(options, rest);
            // The kernels' threads first: a bad -Dshrink4j.threads/poll.micros is refused here, before --device loads kernels.
            dev.shrink4j.tensors.Parallel.threads();
            if (command.computes()) {
                // --device decides what Kernels.get() and FormatKernels.get() return for this command.
                previousKernels = Device.select(Device.parse(new Args(cl)));
            }
            // Load the kernels and their threads now, so a bad -Dshrink4j.* setting is refused up front
            // by every command, not only by those that happen to reach a parallel kernel.
            dev.shrink4j.tensors.Parallel.threads();
            dev.shrink4j.tensors.kernels.Kernels.get();
            return command.run(cl, new Console(out, err));
        } catch (ParseException e) {
            err.println("shrink4j " + command.name() + ": " + parseMessage(e, options) + " (see shrink4j " + command.name() + " --help)");
            if (debug) e.printStackTrace(err);
            return 2;
        } catch (UsageException e) {
            err.println("shrink4j " + command.name() + ": " + e.getMessage() + " (see shrink4j " + command.name() + " --help)");
            if (debug) e.printStackTrace(err);
            return 2;
        } catch (ShrinkException e) {
            err.println("shrink4j " + command.name() + ": " + e.getMessage());
            if (debug) e.printStackTrace(err);
            return 1;
        } catch (ExceptionInInitializerError e) {
            // A bad -Dshrink4j.* setting (threads, poll.micros, kernels) is refused when its class loads.
            if (!(e.getCause() instanceof IllegalArgumentException bad)) throw e;
            err.println("shrink4j " + command.name() + ": " + bad.getMessage());
            if (debug) e.printStackTrace(err);
            return 2;
        } catch (OutOfMemoryError e) {
            long maxMib = Runtime.getRuntime().maxMemory() >> 20;
            err.println("shrink4j " + command.name() + ": out of memory (" + e.getMessage() + ", heap limit " + maxMib
                    + " MiB); raise it, e.g. SHRINK4J_JAVA_OPTS=-Xmx" + Math.max(2, (maxMib * 2 + 1023) / 1024) + "g");
            return 1;
        } catch (Exception | AssertionError e) {
            err.println("shrink4j " + command.name() + ": internal error: " + e + (debug ? "" : " (run with --debug for details)"));
            if (debug) e.printStackTrace(err);
            return 1;
        } finally {
            if (previousKernels != null) Device.restore(previousKernels);
        }
    }

    /** The one option parser: no partial matching, so a misspelt flag gets a suggestion instead of a guess. */
    static DefaultParser parser() {
        return DefaultParser.builder().setAllowPartialMatching(false).get();
    }

    /** Commons CLI's exceptions in the words every other usage error uses. */
    static String parseMessage(ParseException e, Options options) {
        if (e instanceof UnrecognizedOptionException u) {
            String typed = u.getOption();
            List<String> flags = options.getOptions().stream().filter(o -> o.getLongOpt() != null).map(o -> "--" + o.getLongOpt()).toList();
            String bare = typed.contains("=") ? typed.substring(0, typed.indexOf('=')) : typed;
            return "unknown option " + bare + Suggest.didYouMean(bare.startsWith("--") ? bare : "-" + bare, flags);
        }
        if (e instanceof MissingOptionException m) {
            List<String> missing = m.getMissingOptions().stream().map(o -> "--" + (o instanceof Option op ? op.getLongOpt() : o)).toList();
            return String.join(" and ", missing) + (missing.size() == 1 ? " is" : " are") + " required";
        }
        if (e instanceof MissingArgumentException m) {
            Option o = m.getOption();
            return "--" + o.getLongOpt() + " needs a value" + (o.getArgName() == null ? "" : " (" + o.getArgName() + ")");
        }
        return e.getMessage();
    }

    /** The command's options plus the ones every command takes ({@code --help}, {@code --debug}; {@code --device} when it computes). */
    static Options optionsOf(Command command) {
        Options options = command.options();
        if (command.computes()) options.addOption(Device.option());
        options.addOption(Option.builder().longOpt("help").desc("show this help").build());
        options.addOption(Option.builder().longOpt("debug").desc("show stack traces on errors").build());
        return options;
    }

    /** The registered command called {@code name}, or null. */
    static Command command(String name) {
        return Commands.all().stream().filter(c -> c.name().equals(name)).findFirst().orElse(null);
    }

    private static void printOverview(PrintStream out) {
        out.println("shrink4j " + VERSION + " — compress LLM checkpoints (quantize, prune, factorize)");
        out.println();
        out.println("usage: shrink4j COMMAND [OPTIONS] [ARGS]");
        out.println();
        out.println("commands:");
        for (Command c : Commands.all()) {
            out.printf("  %-10s %s%n", c.name(), c.summary());
        }
        out.println();
        out.println("shrink4j COMMAND --help shows a command's options. Exit codes: 0 ok, 1 bad data or failure, 2 usage error.");
    }

    static void printHelp(Command c, Options options, PrintStream out) {
        HelpFormatter f = HelpFormatter.builder().get();
        StringWriter sw = new StringWriter();
        PrintWriter pw = new PrintWriter(sw);
        f.printHelp(pw, 100, "shrink4j " + c.name() + " [OPTIONS] " + c.arguments(), c.summary(), options, 2, 2, c.footer(), false);
        pw.flush();
        out.print(sw);
    }
}
