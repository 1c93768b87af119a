package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The recipe schema of docs/recipes.md: what is read, and one message naming where for each mistake. */
class RecipeReaderTest {
    private static final String TWO_STAGES = """
            calibration:
              text: calib.txt
              samples: 32
              seq_len: 256
            stages:
              - prune: {method: 2ssp, sparsity: 0.25}
              - quantize:
                  method: guidedquant
                  bits: 3
            evaluation:
              texts: [a.txt, b.txt]
              max_windows: 16
            outputs:
              - format: shrink4j
                max_kl: 0.5
              - name: q2
                quantize: {bits: 2}
                max_delta_nll: 1.0
            """;

    private static Recipe yaml(String text) {
        return RecipeReader.parse(text, false, "RECIPE r.yaml");
    }

    private static String refusal(String text, boolean json) {
        return assertThrows(UsageException.class, () -> RecipeReader.parse(text, json, "RECIPE r")).getMessage();
    }

    private static String refusal(String yaml) {
        return refusal(yaml, false);
    }

    @Test
    void aRecipeMapsOntoTheCommandsFlags() {
        Recipe r = yaml(TWO_STAGES);
        assertEquals(Map.of("calib", "calib.txt", "samples", 32L, "seq-len", 256L), r.calibration());
        assertEquals(List.of("prune", "quantize"), r.stages().stream().map(Recipe.Stage::command).toList());
        assertEquals(List.of("--method", "2ssp", "--sparsity", "0.25"), RecipeArgv.options(r.stages().get(0).options()));
        assertEquals(List.of("--eval", "a.txt", "--eval", "b.txt", "--max-windows", "16"), RecipeArgv.options(r.evaluation()));
        assertEquals(2, r.outputs().size());
        Recipe.Output first = r.outputs().get(0);
        assertEquals("shrink4j", first.name());
        assertEquals(0.5, first.maxKl());
        assertTrue(Double.isNaN(first.maxDeltaNll()));
        assertEquals(List.of("--method", "guidedquant", "--bits", "3", "--format", "shrink4j"), RecipeArgv.options(first.options()));
        // An output's own options override the last stage's.
        assertEquals(List.of("--method", "guidedquant", "--bits", "2"), RecipeArgv.options(r.outputs().get(1).options()));
        assertEquals("prune 2ssp → quantize guidedquant", r.describe());
        // YAML 1.1 would read 2:4 as a base-60 integer (124); a recipe keeps it as the pattern it names.
        assertEquals("2:4", yaml("stages: [{prune: {method: sparsegpt, pattern: 2:4}}]\n").stages().get(0).value("pattern"));
    }

    @Test
    void jsonReadsTheSameAsYaml() {
        Recipe j = RecipeReader.parse("""
                {"stages": [{"quantize": {"method": "gptq", "bits": 4, "group-size": 64, "sym": true}}]}
                """, true, "RECIPE r.json");
        assertEquals(List.of("--method", "gptq", "--bits", "4", "--group-size", "64", "--sym"), RecipeArgv.options(j.stages().get(0).options()));
        assertEquals(1, j.outputs().size(), "no outputs: one, in the command's default format");
        assertTrue(j.evaluates());
    }

    @Test
    void malformedYamlAndJsonNameLineAndColumn() {
        String m = refusal("stages:\n  - quantize: {method: gptq\n  - prune: x\n");
        assertTrue(m.startsWith("RECIPE r: malformed YAML at line 3, column"), m);
        String j = refusal("{\"stages\": [}", true);
        assertTrue(j.startsWith("RECIPE r: malformed JSON at line 1, column 13"), j);
        assertTrue(refusal("stages: []\nstages: []\n").contains("malformed YAML at line 2"), "a duplicate key is refused");
    }

    @Test
    void unknownKeysAreRefusedWithTheirPath() {
        assertEquals("RECIPE r: stage: unknown key; did you mean stages? (expected calibration, stages, overrides, evaluation, outputs)",
                refusal("stage:\n  - quantize: {}\n"));
        assertEquals("RECIPE r: calibration.seqlen: unknown key; did you mean seq_len? (expected samples, seed, seq_len, text)",
                refusal("calibration: {seqlen: 3}\nstages: [{quantize: {}}]\n"));
        String m = refusal("stages:\n  - quantize: {method: gptq, bitz: 4}\n");
        assertTrue(m.startsWith("RECIPE r: stages[0].quantize.bitz: unknown key; did you mean bits? (options of quantize: method, bits,"), m);
        assertEquals("RECIPE r: outputs[0].max_k: unknown key; did you mean max_kl? (expected name, format, max_kl, max_delta_nll, quantize)",
                refusal("stages: [{quantize: {}}]\noutputs: [{max_k: 0.1}]\n"));
    }

    @Test
    void unknownStagesAndMethodsAreNamed() {
        assertEquals("RECIPE r: stages[0].quantise: unknown stage; did you mean quantize? (expected prune, lowrank, quantize)",
                refusal("stages: [{quantise: {bits: 4}}]\n"));
        assertEquals("RECIPE r: stages[1].quantize.method: gptqq: unknown quantize method; did you mean gptq? "
                        + "(expected one of rtn, gptq, squeezellm, lnq, guidedquant, guided-gptq, requant)",
                refusal("stages:\n  - prune: {method: 2ssp, sparsity: 0.25}\n  - quantize: {method: gptqq}\n"));
        assertTrue(refusal("stages: [{lowrank: {method: lots}}]\n").contains("stages[0].lowrank.method: lots: unknown lowrank method; did you mean lost?"));
    }

    @Test
    void sharedSettingsBelongToTheirSection() {
        assertTrue(refusal("stages: [{quantize: {samples: 8}}]\n").contains("stages[0].quantize.samples: calibration is shared by every stage"));
        assertTrue(refusal("stages: [{quantize: {eval: a.txt}}]\n").contains("stages[0].quantize.eval: every output is evaluated against the original"));
        assertTrue(refusal("stages: [{quantize: {force: true}}]\n").contains("a flag of the run, not of the recipe: give --force to shrink4j run"));
        assertTrue(refusal("stages: [{quantize: {format: gguf}}]\n").contains("stages[0].quantize.format: the last stage's format is chosen per output"));
        assertTrue(refusal("stages: [{quantize: {sym: 1}}]\n").contains("stages[0].quantize.sym: expected true or false, got '1'"));
        assertTrue(refusal("stages: [{quantize: {bits: [2, 3]}}]\n").contains("stages[0].quantize.bits: expected a value, got a list"));
    }

    @Test
    void outputsAndGatesAreChecked() {
        assertTrue(refusal("stages: [{quantize: {}}]\nevaluation: {enabled: false}\noutputs: [{max_kl: 0.1}]\n")
                .contains("outputs[0]: a quality gate needs the evaluation, and evaluation.enabled is false"));
        assertTrue(refusal("stages: [{quantize: {}}]\noutputs: [{name: a}, {name: a}]\n").contains("outputs[1].name: 'a' names two outputs"));
        assertTrue(refusal("stages: [{quantize: {}}]\noutputs: [{name: ../x}]\n").contains("outputs[0].name: '../x': a directory name"));
        assertTrue(refusal("stages: [{quantize: {}}]\noutputs: [{max_kl: -1}]\n").contains("outputs[0].max_kl: expected a number ≥ 0"));
        assertTrue(refusal("stages: []\n").contains("stages: expected a non-empty list of stages"));
        assertTrue(refusal("calibration: {samples: 4}\n").contains("stages: missing"));
    }

    @Test
    void compositionsTheFormatsCannotHoldAreRefusedWithTheReason() {
        String csr = refusal0("stages:\n  - prune: {method: sparsegpt, sparsity: 0.5}\n  - quantize: {method: gptq, bits: 4}\n");
        assertTrue(csr.contains("stages[0] prune then stages[1] quantize: cannot be composed yet: prune sparsegpt writes sparse layers (format auto: csr);"
                + " quantized sparse layers are built for N:M"), csr);
        String lut = refusal0("stages:\n  - prune: {method: sparsegpt, pattern: '2:4'}\n  - quantize: {method: squeezellm, bits: 4}\n");
        assertTrue(lut.contains("whose structure quantize keeps with method rtn or gptq only (got squeezellm)"), lut);
        String dflt = refusal0("stages:\n  - lowrank: {method: lost, params_ratio: 0.8}\n  - quantize: {bits: 4}\n");
        assertTrue(dflt.contains("lowrank writes factors (format shrink4j), whose structure quantize keeps with method rtn or gptq only (got the default guidedquant)"), dflt);
        String gguf = refusal0("stages:\n  - prune: {method: sparsegpt, pattern: '2:4'}\n  - quantize: {method: gptq, bits: 4}\noutputs: [{format: gguf}]\n");
        assertTrue(gguf.contains("which output format gguf cannot hold (output gguf): use format shrink4j"), gguf);
        String prune = refusal0("stages:\n  - lowrank: {method: svd, params_ratio: 0.8}\n  - prune: {method: magnitude, sparsity: 0.5}\n");
        assertTrue(prune.contains("lowrank writes factors (format shrink4j) and prune reads dense weights only"), prune);
        String twice = refusal0("stages:\n  - quantize: {bits: 4}\n  - prune: {method: magnitude, sparsity: 0.5}\n");
        assertTrue(twice.contains("put quantize last"), twice);
        Recipe.Stage gptq = new Recipe.Stage("quantize", Map.of("method", "gptq", "bits", 4));
        // Built: 2:4 then rtn/gptq (kept values quantized), factors then rtn/gptq (each factor quantized).
        assertEquals(null, RecipeCheck.whyCannotFollow(new Recipe.Stage("prune", Map.of("method", "sparsegpt", "pattern", "2:4")), gptq));
        assertEquals(null, RecipeCheck.whyCannotFollow(new Recipe.Stage("lowrank", Map.of("method", "lost")), gptq));
        // Structured pruning writes a smaller dense checkpoint, which every stage reads.
        Recipe.Stage magnitude = new Recipe.Stage("prune", Map.of("method", "magnitude"));
        assertEquals(null, RecipeCheck.whyCannotFollow(new Recipe.Stage("prune", Map.of("method", "2ssp")), magnitude));
        assertEquals(null, RecipeCheck.whyCannotFollow(new Recipe.Stage("prune", Map.of("method", "wanda", "format", "dense")), magnitude));
        assertEquals(null, RecipeCheck.whyCannotFollow(new Recipe.Stage("lowrank", Map.of("method", "svd", "format", "dense")), magnitude));
        assertFalse(RecipeCheck.whyCannotFollow(new Recipe.Stage("lowrank", Map.of("method", "svd")), magnitude).isEmpty());
    }

    @Test
    void overridesBecomeFlagsOfEveryQuantizeStage() {
        Recipe r = yaml("""
                stages:
                  - prune: {method: 2ssp, sparsity: 0.25}
                  - quantize: {method: gptq, bits: 4}
                overrides:
                  - {match: 'mlp\\.down_proj', bits: 8}
                  - {match: 'layers\\.0\\.', skip: true}
                """);
        assertEquals(List.of("--method", "gptq", "--bits", "4", "--override", "mlp\\.down_proj=bits:8", "--override", "layers\\.0\\.=skip"),
                RecipeArgv.options(r.outputs().get(0).options()));
        assertFalse(r.stages().get(0).options().containsKey("override"), "prune takes no overrides");
        assertTrue(refusal("stages: [{prune: {method: 2ssp, sparsity: 0.25}}]\noverrides: [{match: mlp, bits: 8}]\n")
                .contains("overrides: per-module overrides apply to quantize stages, and this recipe has none"));
        assertTrue(refusal("stages: [{quantize: {}}]\noverrides: [{match: mlp, bitz: 8}]\n").contains("overrides[0]: bitz: unknown key; did you mean bits?"));
        assertTrue(refusal("stages: [{quantize: {}}]\noverrides: [{match: 'mlp(', bits: 8}]\n").contains("overrides[0]: match: 'mlp(' is not a regular expression"));
        assertTrue(refusal("stages: [{quantize: {}}]\noverrides: [{match: mlp, bits: 5}]\n").contains("overrides[0]: bits 5: not supported"));
        assertTrue(refusal("stages: [{quantize: {}}]\noverrides: [{match: mlp}]\n").contains("overrides[0]: says nothing to change"));
        assertTrue(refusal("stages: [{quantize: {override: 'mlp=bits:8'}}]\n").contains("stages[0].quantize.override: per-module overrides go under overrides"));
    }

    /** The message of the composition check alone (no options probed). */
    private static String refusal0(String yaml) {
        Recipe r = yaml(yaml);
        return assertThrows(UsageException.class, () -> RecipeCheck.check(r, "RECIPE r")).getMessage();
    }
}
