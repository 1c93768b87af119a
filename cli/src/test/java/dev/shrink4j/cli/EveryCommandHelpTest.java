package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EveryCommandHelpTest {
    /** "--help" wins over everything else on the line, required options included (generate needs --model). */
    @Test
    void everyCommandPrintsItsHelpAndExitsZero() {
        for (Command c : Commands.all()) {
            for (String flag : new String[] {"--help", "-h"}) {
                CliRunner help = CliRunner.run(c.name(), flag);
                assertEquals(0, help.status(), c.name() + " " + flag + ": " + help.err());
                assertTrue(help.out().contains("--debug"), c.name() + " " + flag + " lists the options: " + help.out());
                assertEquals("", help.err(), c.name() + " " + flag);
            }
        }
    }
}
