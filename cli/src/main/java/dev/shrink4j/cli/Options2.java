package dev.shrink4j.cli;

import org.apache.commons.cli.CommandLine;

/** Small typed readers for option values, turning bad numbers into usage errors naming the flag. */
final class Options2 {
    private Options2() {}

    static int intValue(CommandLine cl, String opt) {
        String v = cl.getOptionValue(opt);
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + opt + " " + v + ": expected an integer");
        }
    }

    static int intValue(CommandLine cl, String opt, int dflt) {
        return cl.hasOption(opt) ? intValue(cl, opt) : dflt;
    }

    static long longValue(CommandLine cl, String opt, long dflt) {
        if (!cl.hasOption(opt)) return dflt;
        String v = cl.getOptionValue(opt);
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + opt + " " + v + ": expected an integer");
        }
    }
}
