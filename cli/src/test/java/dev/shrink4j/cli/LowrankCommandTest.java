package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LowrankCommandTest {
    @TempDir Path dir;

    private String demo() {
        return TestData.demoModel().toString();
    }

    @Test
    void factorizesTheDemoModelToDenseWeights() throws Exception {
        Path out = dir.resolve("svd");
        CliRunner r = CliRunner.run("lowrank", "--method", "svd", "--params-ratio", "0.5", "--format", "dense", "--quiet", demo(), out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("35 linears in 5 blocks"), r.out());
        assertEquals("", r.err());
        Map<?, ?> cfg = (Map<?, ?>) Json.parse(Files.readString(out.resolve("config.json")));
        Map<?, ?> prov = (Map<?, ?>) ((Map<?, ?>) cfg.get("shrink4j")).get("provenance");
        assertEquals("svd", prov.get("method"));
    }

    @Test
    void badInputGivesOneLineAndAnExitCode() {
        String out = dir.resolve("o").toString();
        CliRunner outside = CliRunner.run("lowrank", "--method", "lost", "--params-ratio", "1.5", demo(), out);
        assertEquals(2, outside.status());
        assertTrue(outside.err().contains("--params-ratio must be in (0, 1]"), outside.err());
        CliRunner tiny = CliRunner.run("lowrank", "--method", "lost", "--params-ratio", "0.02", "--quiet", demo(), out);
        assertEquals(1, tiny.status());
        assertEquals(1, tiny.err().lines().count(), tiny.err());
        assertTrue(tiny.err().contains("cannot hold rank 1"), tiny.err());
        assertFalse(Files.exists(Path.of(out)), "nothing written");
        assertEquals(2, CliRunner.run("lowrank", "--method", "tucker", "--params-ratio", "0.5", demo(), out).status());
        assertEquals(2, CliRunner.run("lowrank", "--params-ratio", "0.5", demo(), out).status());
        assertEquals(2, CliRunner.run("lowrank", "--method", "svd", "--params-ratio", "half", demo(), out).status());
        assertEquals(2, CliRunner.run("lowrank", "--method", "svd", "--params-ratio", "0.5", demo()).status());
        CliRunner help = CliRunner.run("lowrank", "--help");
        assertEquals(0, help.status());
        assertTrue(help.out().contains("--params-ratio"));
    }
}
