package dev.shrink4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.AbandonedOutputs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Where {@code shrink4j run} builds its stages and outputs: {@code .OUT.recipe-resume} beside OUT, kept
 * when the run is killed so that the same command continues (docs/reliability.md "Resume"). A stage's
 * output appears there only when its command committed it (each command renames a finished temporary
 * directory into place), so an existing {@code stage-i} is finished work; a stage killed midway left its
 * own block-level resume state ({@code .stage-i.resume}) beside it, which the stage's command continues
 * from. The directory is fingerprinted by the recipe (its canonical JSON), the SHA-256 of IN and the
 * version: any change starts over and says so. Any orderly end of the run removes it.
 */
final class RecipeResume {
    private static final String FINGERPRINT = "recipe-fingerprint";

    private RecipeResume() {}

    /**
     * The work directory for {@code out}, ready for this run: reused when an interrupted run of the same
     * recipe and input left it (unless {@code startOver}), else emptied; claimed by this process.
     *
     * @throws ShrinkException when another live process is building the same OUT
     */
    static Path open(Path out, Object recipeTree, String inputSha256, boolean startOver, Consumer<String> notes) throws IOException {
        Path abs = out.toAbsolutePath().normalize();
        Path work = abs.resolveSibling("." + abs.getFileName() + ".recipe-resume");
        String fingerprint = fingerprint(recipeTree, inputSha256);
        if (Files.isDirectory(work)) {
            Path owner = work.resolve(AbandonedOutputs.OWNER_FILE);
            if (Files.exists(owner) && !AbandonedOutputs.abandoned(work)) {
                throw new ShrinkException("OUT " + out + " is being written by another run (pid " + Files.readString(owner).strip().split(" ")[0]
                        + "); wait for it to finish");
            }
            Path f = work.resolve(FINGERPRINT);
            String why = startOver ? "--no-resume"
                    : !Files.exists(f) ? "the interrupted run left no fingerprint"
                    : !Files.readString(f).strip().equals(fingerprint) ? "the recipe or IN changed since the interrupted run"
                    : null;
            if (why != null) {
                deleteTree(work);
                notes.accept("note: starting over: " + why + " (removed " + work + ")");
            } else {
                notes.accept("resume: continuing the interrupted run of this recipe from " + work);
            }
        }
        Files.createDirectories(work);
        AbandonedOutputs.claim(work);
        Files.writeString(work.resolve(FINGERPRINT), fingerprint + "\n");
        return work;
    }

    private static String fingerprint(Object recipeTree, String inputSha256) {
        try {
            String canonical = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true).writeValueAsString(recipeTree);
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(canonical.getBytes(StandardCharsets.UTF_8));
            md.update(("\n" + inputSha256 + "\n" + Main.VERSION).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot fingerprint the recipe: " + e.getMessage(), e);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
