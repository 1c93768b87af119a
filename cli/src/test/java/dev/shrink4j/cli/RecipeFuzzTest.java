package dev.shrink4j.cli;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.shrink4j.tensors.ShrinkException;
import java.nio.charset.StandardCharsets;

/**
 * Fuzz target for the recipe reader (docs/recipes.md, docs/reliability.md "Fuzzing"): arbitrary bytes
 * as YAML and as JSON, then the up-front check of every stage's options. The documented refusals are
 * {@link UsageException} (a mistake in the recipe, exit 2) and {@link ShrinkException}; anything else
 * — a parser exception escaping, a stack overflow on deep nesting, an alias bomb — is a finding.
 */
class RecipeFuzzTest {
    @FuzzTest
    void recipe(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        for (boolean json : new boolean[] {false, true}) {
            try {
                Recipe r = RecipeReader.parse(text, json, "RECIPE fuzz");
                RecipeCheck.check(r, "RECIPE fuzz");
                r.tree();
            } catch (UsageException | ShrinkException expected) {
                // the documented refusals
            }
        }
    }
}
