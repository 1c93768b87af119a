package dev.shrink4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.shrink4j.tensors.ShrinkException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;

/**
 * {@code --save-recipe FILE}: the one-stage recipe a compression command line means, written as YAML
 * (or JSON when FILE ends in {@code .json}) so that {@code shrink4j run FILE IN OUT} does the same work.
 */
final class RecipeWriter {
    private static final Pattern INTEGER = Pattern.compile("-?\\d{1,18}");
    private static final Pattern DECIMAL = Pattern.compile("-?\\d+\\.\\d+([eE][-+]?\\d+)?");

    private RecipeWriter() {}

    /** The recipe tree of {@code command}'s parsed command line (see {@link RecipeArgv} for which flag goes where). */
    static Map<String, Object> fromCommandLine(String command, CommandLine cl) {
        Map<String, Object> calibration = new LinkedHashMap<>();
        Map<String, Object> evaluation = new LinkedHashMap<>();
        Map<String, Object> stage = new LinkedHashMap<>();
        Map<String, Object> output = new LinkedHashMap<>();
        List<Object> overrides = new java.util.ArrayList<>();
        Map<String, String> calibrationKeys = invert(RecipeArgv.CALIBRATION);
        Map<String, String> evaluationKeys = invert(RecipeArgv.EVALUATION);
        for (Option o : cl.getOptions()) {
            String flag = o.getLongOpt();
            if (RecipeArgv.RUN_FLAGS.contains(flag)) continue;
            if (calibrationKeys.containsKey(flag)) {
                calibration.put(calibrationKeys.get(flag), typed(o.getValue()));
            } else if (flag.equals("eval")) {
                evaluation.put("texts", List.of(cl.getOptionValues("eval")));
            } else if (flag.equals("no-eval")) {
                evaluation.put("enabled", false);
            } else if (evaluationKeys.containsKey(flag)) {
                evaluation.put(evaluationKeys.get(flag), typed(o.getValue()));
            } else if (flag.equals("override")) {
                overrides.clear();
                for (String v : cl.getOptionValues("override")) overrides.add(OverrideSpec.entry(OverrideSpec.parse(v, "--override")));
            } else if (flag.equals("format")) {
                output.put("format", o.getValue());
            } else {
                stage.put(flag.replace('-', '_'), o.hasArg() ? typed(o.getValue()) : Boolean.TRUE);
            }
        }
        Map<String, Object> recipe = new LinkedHashMap<>();
        if (!calibration.isEmpty()) recipe.put("calibration", calibration);
        recipe.put("stages", List.of(Map.of(command, stage)));
        if (!overrides.isEmpty()) recipe.put("overrides", overrides);
        if (!evaluation.isEmpty()) recipe.put("evaluation", evaluation);
        if (!output.isEmpty()) recipe.put("outputs", List.of(output));
        return recipe;
    }

    /** Writes the recipe to {@code file} whole or not at all (a temporary sibling renamed into place). */
    static void save(Map<String, Object> recipe, Path file) {
        boolean json = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json");
        ObjectMapper mapper = json ? new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                : new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER).enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));
        Path abs = file.toAbsolutePath().normalize();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            String text = mapper.writeValueAsString(recipe);
            Files.writeString(tmp, json ? text + "\n" : text);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the temporary file could not be written either
            }
            throw new ShrinkException("--save-recipe " + file + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    /** "4" → 4, "0.25" → 0.25, "50%" and "gptq" stay text: the recipe reads like one written by hand. */
    private static Object typed(String v) {
        if (INTEGER.matcher(v).matches()) return Long.parseLong(v);
        if (DECIMAL.matcher(v).matches()) return Double.parseDouble(v);
        return v;
    }

    private static Map<String, String> invert(Map<String, String> m) {
        Map<String, String> r = new LinkedHashMap<>();
        m.forEach((k, v) -> r.put(v, k));
        return r;
    }
}
