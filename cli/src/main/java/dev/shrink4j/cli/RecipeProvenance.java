package dev.shrink4j.cli;

import dev.shrink4j.model.CheckpointConfig;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What a recipe run records in its output: the recipe as read and a SHA-256 of IN, under
 * {@code shrink4j.provenance} of the output's config.json (beside what the last stage recorded).
 */
final class RecipeProvenance {
    private RecipeProvenance() {}

    /**
     * SHA-256 over IN's regular files in name order (each: name, NUL, length, bytes), so a renamed,
     * added or changed file changes it; a single file (a .gguf) is hashed the same way.
     */
    static String sha256(Path in) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            List<Path> files;
            if (Files.isRegularFile(in)) {
                files = List.of(in);
            } else {
                try (Stream<Path> s = Files.list(in)) {
                    files = s.filter(Files::isRegularFile).sorted().toList();
                }
            }
            byte[] buf = new byte[1 << 20];
            for (Path f : files) {
                md.update(f.getFileName().toString().getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
                md.update(Long.toString(Files.size(f)).getBytes(StandardCharsets.US_ASCII));
                try (InputStream is = Files.newInputStream(f)) {
                    for (int n; (n = is.read(buf)) > 0; ) md.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new ShrinkException("IN " + in + ": cannot read it to hash it (" + e.getMessage() + ")", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Adds {@code recipe} and {@code input_sha256} to {@code dir/config.json}'s {@code shrink4j.provenance}
     * (created when the last stage wrote a plain config). Returns false for an output without a
     * config.json (a .gguf file: the report holds them instead).
     */
    @SuppressWarnings("unchecked")
    static boolean record(Path dir, Map<String, Object> recipe, String inputSha256) throws IOException {
        Path file = dir.resolve("config.json");
        if (!Files.isDirectory(dir) || !Files.isRegularFile(file)) return false;
        Map<String, Object> config = (Map<String, Object>) Json.parse(Files.readString(file));
        Map<String, Object> block = config.get("shrink4j") instanceof Map<?, ?> m ? (Map<String, Object>) m : new LinkedHashMap<>();
        Map<String, Object> provenance = block.get("provenance") instanceof Map<?, ?> p ? (Map<String, Object>) p : new LinkedHashMap<>();
        provenance.put("recipe", recipe);
        provenance.put("input_sha256", inputSha256);
        block.put("provenance", provenance);
        config.put("shrink4j", block);
        Path tmp = dir.resolve(".config.json.recipe-tmp");
        Files.writeString(tmp, CheckpointConfig.toJson(config));
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return true;
    }
}
