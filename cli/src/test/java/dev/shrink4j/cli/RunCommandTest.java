package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.testing.TestData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code shrink4j run}: gated outputs, provenance, --save-recipe round trips, and refusals before any work. */
class RunCommandTest {
    private static final String STORY = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big red ball. She ran to get it, but a dog got it first. Lily was sad.\n\n";

    @TempDir Path dir;

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private String demo() {
        return TestData.demoModel().toString();
    }

    /** Nothing but the hidden working directories of runs that were cleaned up: an empty temp dir apart from the given files. */
    private void assertNoLeftovers(String... kept) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                assertTrue(java.util.List.of(kept).contains(p.getFileName().toString()), "left behind: " + p);
            }
        }
    }

    @Test
    void anOutputOverItsGateIsNotWrittenTheOthersAreAndTheRunExits3() throws IOException {
        Path text = write("eval.txt", STORY.repeat(20));
        Path recipe = write("r.yaml", """
                stages:
                  - quantize: {method: rtn, bits: 8, group_size: 64}
                evaluation:
                  texts: [%s]
                  max_windows: 1
                  seq_len: 64
                outputs:
                  - name: rtn8
                    max_kl: 0.1
                  - name: rtn2
                    quantize: {bits: 2}
                    max_kl: 0.1
                """.formatted(text));
        Path out = dir.resolve("out");
        CliRunner r = CliRunner.run("run", "--quiet", recipe.toString(), demo(), out.toString());
        assertEquals(3, r.status(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("shrink4j run: output rtn2 not written: KL "), r.err());
        assertTrue(r.err().contains("> max_kl 0.1 nats/token"), r.err());
        assertTrue(Files.isRegularFile(out.resolve("rtn8/model.safetensors")));
        assertFalse(Files.exists(out.resolve("rtn2")));
        assertTrue(r.out().contains("rtn2") && r.out().contains("not written"), r.out());

        // The recipe and a hash of IN are in the written output's provenance.
        @SuppressWarnings("unchecked")
        Map<String, Object> config = (Map<String, Object>) Json.parse(Files.readString(out.resolve("rtn8/config.json")));
        @SuppressWarnings("unchecked")
        Map<String, Object> provenance = (Map<String, Object>) ((Map<String, Object>) config.get("shrink4j")).get("provenance");
        assertEquals("rtn", provenance.get("method"), "the stage's own provenance is kept");
        assertTrue(((String) provenance.get("input_sha256")).matches("[0-9a-f]{64}"));
        assertEquals(RecipeProvenance.sha256(TestData.demoModel()), provenance.get("input_sha256"));
        assertTrue(provenance.get("recipe") instanceof Map<?, ?> m && m.containsKey("outputs"));
        assertNoLeftovers("eval.txt", "r.yaml", "out");
    }

    @Test
    void aSavedRecipeRunsTheSameWorkAsItsCommandLine() throws IOException {
        Path saved = dir.resolve("rtn.yaml");
        Path direct = dir.resolve("direct");
        CliRunner q = CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--group-size", "64", "--sym", "--no-eval", "--quiet",
                "--save-recipe", saved.toString(), demo(), direct.toString());
        assertEquals(0, q.status(), q.err());
        String yaml = Files.readString(saved);
        assertTrue(yaml.contains("group_size: 64") && yaml.contains("sym: true") && yaml.contains("enabled: false"), yaml);
        assertFalse(yaml.contains("quiet") || yaml.contains("save"), "flags of the run are not part of the recipe: " + yaml);

        Path viaRecipe = dir.resolve("via-recipe");
        CliRunner r = CliRunner.run("run", "--quiet", saved.toString(), demo(), viaRecipe.toString());
        assertEquals(0, r.status(), r.err());
        assertArrayEquals(Files.readAllBytes(direct.resolve("model.safetensors")), Files.readAllBytes(viaRecipe.resolve("model.safetensors")));

        // JSON too, and the same recipe read back.
        Path json = dir.resolve("rtn.json");
        assertEquals(0, CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--group-size", "64", "--sym", "--no-eval", "--quiet",
                "--save-recipe", json.toString(), demo(), dir.resolve("direct2").toString()).status());
        assertEquals(RecipeReader.read(saved).tree(), RecipeReader.read(json).tree());
    }

    @Test
    @SuppressWarnings("unchecked")
    void perModuleOverridesReachTheQuantizeStageAndARegexMatchingNothingIsNamed() throws IOException {
        Path recipe = write("r.yaml", """
                stages:
                  - quantize: {method: rtn, bits: 4, group_size: 64}
                overrides:
                  - {match: 'mlp\\.down_proj', bits: 8}
                  - {match: 'layers\\.0\\.self_attn\\.q_proj', skip: true}
                  - {match: 'mlp\\.down_prj', bits: 2}
                evaluation: {enabled: false}
                """);
        Path out = dir.resolve("out");
        CliRunner r = CliRunner.run("run", "--quiet", recipe.toString(), demo(), out.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("warning: --override mlp\\.down_prj=bits:2: 'mlp\\.down_prj' matches no module (names look like model.layers.0.self_attn.q_proj)",
                r.err().strip());
        Map<String, Object> config = (Map<String, Object>) Json.parse(Files.readString(out.resolve("config.json")));
        Map<String, Object> tensors = (Map<String, Object>) ((Map<String, Object>) config.get("shrink4j")).get("tensors");
        assertEquals(8L, ((Map<String, Object>) tensors.get("model.layers.2.mlp.down_proj")).get("bits"));
        assertEquals(4L, ((Map<String, Object>) tensors.get("model.layers.2.mlp.up_proj")).get("bits"));
        assertFalse(tensors.containsKey("model.layers.0.self_attn.q_proj"), "skipped: the input's dense tensor, copied");

        // The command line that means the same recipe writes the same bytes, and saves the overrides back.
        Path saved = dir.resolve("saved.yaml");
        Path direct = dir.resolve("direct");
        CliRunner q = CliRunner.run("quantize", "--method", "rtn", "--bits", "4", "--group-size", "64", "--no-eval", "--quiet",
                "--override", "mlp\\.down_proj=bits:8", "--override", "layers\\.0\\.self_attn\\.q_proj=skip", "--override", "mlp\\.down_prj=bits:2",
                "--save-recipe", saved.toString(), demo(), direct.toString());
        assertEquals(0, q.status(), q.err());
        assertArrayEquals(Files.readAllBytes(direct.resolve("model.safetensors")), Files.readAllBytes(out.resolve("model.safetensors")));
        assertEquals(RecipeReader.read(recipe).outputs().get(0).options(), RecipeReader.read(saved).outputs().get(0).options());
    }

    @Test
    void aBadValueInALaterStageIsRefusedBeforeAnyWork() throws IOException {
        Path recipe = write("r.yaml", """
                stages:
                  - prune: {method: magnitude, sparsity: 0.5, format: dense}
                  - quantize: {method: rtn, bits: 5}
                """);
        CliRunner r = CliRunner.run("run", recipe.toString(), demo(), dir.resolve("out").toString());
        assertEquals(2, r.status());
        assertEquals("shrink4j run: RECIPE " + recipe + ": stages[1].quantize: --bits 5: not supported (expected one of 2, 3, 4, 8) (see shrink4j run --help)",
                r.err().strip());
        assertTrue(r.out().isEmpty(), r.out());
        assertNoLeftovers("r.yaml");
    }

    @Test
    void aCompositionWeCannotRunIsNamedBeforeAnyWork() throws IOException {
        Path recipe = write("r.yaml", """
                stages:
                  - prune: {method: sparsegpt, sparsity: 0.5}
                  - quantize: {method: gptq, bits: 4}
                """);
        CliRunner r = CliRunner.run("run", recipe.toString(), demo(), dir.resolve("out").toString());
        assertEquals(2, r.status());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("stages[0] prune then stages[1] quantize: cannot be composed yet"), r.err());
        assertNoLeftovers("r.yaml");
    }

    @Test
    void aStructuredPruneThenQuantizeRunsAsOneRecipe() throws IOException {
        Path text = write("calib.txt", STORY.repeat(20));
        Path recipe = write("r.yaml", """
                calibration: {text: %s, samples: 2, seq_len: 32}
                stages:
                  - prune: {method: width, sparsity: 0.25}
                  - quantize: {method: gptq, bits: 4, group_size: 32}
                evaluation: {texts: [%s], max_windows: 1, seq_len: 32}
                """.formatted(text, text));
        Path out = dir.resolve("out");
        CliRunner r = CliRunner.run("run", "--quiet", recipe.toString(), demo(), out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("== stage 1/2: prune --method width --sparsity 0.25"), r.out());
        assertTrue(r.out().contains("recipe: prune width → quantize gptq, 1 output"), r.out());
        // The quantized checkpoint holds the narrowed MLPs (intermediate 172 → fewer) and loads for eval.
        CliRunner eval = CliRunner.run("eval", "--model", out.toString(), "--text", text.toString(), "--seq-len", "32", "--max-windows", "1");
        assertEquals(0, eval.status(), eval.err());
        assertNoLeftovers("calib.txt", "r.yaml", "out");
    }

    /**
     * SparseGPT 2:4 → GPTQ 4-bit and LOST → GPTQ 4-bit as one recipe each: the output keeps the structure
     * (nm_uniform; low-rank/LOST with uniform factors), reloads for eval and generate.
     */
    @Test
    void twoFourAndLowRankThenGptqKeepTheirStructure() throws IOException {
        Path text = write("calib.txt", STORY.repeat(20));
        String[][] cases = {{"prune: {method: sparsegpt, pattern: '2:4'}", "nm_uniform"},
                {"lowrank: {method: lost, params_ratio: 0.8}", "low_rank_column_sparse"}};
        for (String[] c : cases) {
            Path recipe = write("r.yaml", """
                    calibration: {text: %s, samples: 2, seq_len: 32}
                    stages:
                      - %s
                      - quantize: {method: gptq, bits: 4, group_size: 32, sym: true}
                    evaluation: {texts: [%s], max_windows: 1, seq_len: 32}
                    """.formatted(text, c[0], text));
            Path out = dir.resolve("out-" + c[1]);
            CliRunner r = CliRunner.run("run", "--quiet", recipe.toString(), demo(), out.toString());
            assertEquals(0, r.status(), r.err());
            Map<?, ?> tensors = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) Json.parse(Files.readString(out.resolve("config.json")))).get("shrink4j")).get("tensors");
            Map<?, ?> down = (Map<?, ?>) tensors.get("model.layers.0.mlp.down_proj");
            assertEquals(c[1], down.get("format"), down.toString());
            if (c[1].equals("nm_uniform")) {
                assertEquals(4L, ((Number) down.get("bits")).longValue());
            } else {
                assertEquals("uniform", ((Map<?, ?>) ((Map<?, ?>) down.get("factors")).get("a")).get("format"), down.toString());
                assertEquals("uniform", ((Map<?, ?>) down.get("col_values")).get("format"), down.toString());
            }
            CliRunner eval = CliRunner.run("eval", "--model", out.toString(), "--text", text.toString(), "--seq-len", "32", "--max-windows", "1");
            assertEquals(0, eval.status(), eval.err());
            CliRunner gen = CliRunner.run("generate", "--model", out.toString(), "--prompt", "Once upon a time", "--max-tokens", "8", "--seed", "1");
            assertEquals(0, gen.status(), gen.err());
        }
        assertNoLeftovers("calib.txt", "r.yaml", "out-nm_uniform", "out-low_rank_column_sparse");
    }
}
