package dev.shrink4j.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.shrink4j.tensors.ShrinkException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.commons.cli.Option;

/**
 * Reads a recipe file (YAML, or JSON when it ends in {@code .json}) with Jackson and checks it against
 * the schema of docs/recipes.md. Every mistake is one {@link UsageException} naming where it is: the
 * line and column of a syntax error, the path of a key ({@code stages[1].quantize.bitz: unknown key;
 * did you mean bits?}). Option values are checked later by the stage's own command (see
 * {@link RecipeCheck}); here only the shape, the keys, the stage names and the methods.
 */
final class RecipeReader {
    /** The stages a recipe may hold, in the order docs/recipes.md lists them. */
    static final List<String> STAGES = List.of("prune", "lowrank", "quantize");
    private static final List<String> TOP = List.of("calibration", "stages", "overrides", "evaluation", "outputs");
    private static final List<String> OUTPUT_KEYS = List.of("name", "format", "max_kl", "max_delta_nll");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private RecipeReader() {}

    /** Reads and checks {@code file}: a missing or unreadable file is bad data (exit 1), anything in it a usage error (exit 2). */
    static Recipe read(Path file) {
        if (!Files.isRegularFile(file)) throw new ShrinkException("RECIPE " + file + ": no such file");
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ShrinkException("RECIPE " + file + ": cannot read (" + e.getMessage() + ")", e);
        }
        return parse(text, file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json"), "RECIPE " + file);
    }

    /** Parses recipe text ({@code json}: JSON, else YAML); {@code label} starts every message. */
    static Recipe parse(String text, boolean json, String label) {
        ObjectMapper mapper = json ? new ObjectMapper() : new ObjectMapper(new YAMLFactory());
        mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        JsonNode root;
        try {
            root = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new UsageException(label + ": malformed " + (json ? "JSON" : "YAML") + where + ": " + firstLine(e.getOriginalMessage()));
        }
        Object tree = plain(root);
        if (!(tree instanceof Map<?, ?>)) throw new UsageException(label + ": a recipe is a mapping with " + String.join(", ", TOP));
        return new Checker(label).recipe(cast(tree));
    }

    private static String firstLine(String s) {
        String t = s == null ? "" : s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }

    /** Jackson's tree as {@code tensors.io.Json}'s model: LinkedHashMap, ArrayList, String, Long, Double, Boolean, null. */
    private static Object plain(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) return null;
        if (n.isObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                m.put(e.getKey(), plain(e.getValue()));
            }
            return m;
        }
        if (n.isArray()) {
            List<Object> l = new ArrayList<>();
            n.forEach(x -> l.add(plain(x)));
            return l;
        }
        if (n.isBoolean()) return n.booleanValue();
        if (n.isIntegralNumber()) return n.longValue();
        if (n.isNumber()) return n.doubleValue();
        return n.asText();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object o) {
        return (Map<String, Object>) o;
    }

    /** A scalar as a command line would spell it: 4, 0.25, gptq. */
    static String scalarText(Object v) {
        if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 1e15) return Long.toString(d.longValue());
        return String.valueOf(v);
    }

    /** The flags a stage of {@code command} may set: its own options, less those of the calibration, evaluation and run. */
    static Map<String, Option> stageOptions(String command) {
        Map<String, Option> r = new LinkedHashMap<>();
        for (Option o : Main.command(command).options().getOptions()) {
            String f = o.getLongOpt();
            if (RecipeArgv.CALIBRATION.containsValue(f) || RecipeArgv.EVALUATION.containsValue(f) || f.equals("no-eval") || RecipeArgv.RUN_FLAGS.contains(f)) continue;
            r.put(f, o);
        }
        return r;
    }

    /** The methods a stage of {@code command} knows. */
    static List<String> methods(String command) {
        return switch (command) {
            case "prune" -> PruneCommand.METHODS;
            case "lowrank" -> LowrankCommand.METHODS;
            default -> QuantizeCommand.METHODS;
        };
    }

    /** Walks the tree once, keeping the path of what it looks at for the messages. */
    private record Checker(String label) {
        Recipe recipe(Map<String, Object> root) {
            keys("", root, TOP);
            Map<String, Object> calibration = section("calibration", root.get("calibration"), RecipeArgv.CALIBRATION);
            Map<String, Object> evaluation = evaluation(root.get("evaluation"));
            List<Recipe.Stage> stages = withOverrides(stages(root.get("stages")), root.get("overrides"));
            List<Recipe.Output> outputs = outputs(root.get("outputs"), stages.getLast(), !evaluation.containsKey("no-eval"));
            return new Recipe(calibration, stages, evaluation, outputs, root);
        }

        private UsageException bad(String path, String what) {
            return new UsageException(label + ": " + path + ": " + what);
        }

        private void keys(String path, Map<String, Object> m, List<String> allowed) {
            for (String k : m.keySet()) {
                if (!allowed.contains(k)) {
                    throw bad(path.isEmpty() ? k : path + "." + k, "unknown key" + Suggest.didYouMean(k, allowed) + " (expected " + String.join(", ", allowed) + ")");
                }
            }
        }

        private Map<String, Object> map(String path, Object o) {
            if (o == null) return new LinkedHashMap<>();
            if (!(o instanceof Map<?, ?>)) throw bad(path, "expected a mapping, got " + kind(o));
            return cast(o);
        }

        private Object scalar(String path, Object o) {
            if (o instanceof Map<?, ?> || o instanceof List<?> || o == null) throw bad(path, "expected a value, got " + kind(o));
            return o;
        }

        private static String kind(Object o) {
            return o == null ? "nothing" : o instanceof Map<?, ?> ? "a mapping" : o instanceof List<?> ? "a list" : "'" + o + "'";
        }

        /** A section of recipe keys that map one to one onto flags. */
        private Map<String, Object> section(String path, Object o, Map<String, String> flags) {
            Map<String, Object> m = map(path, o);
            keys(path, m, List.copyOf(new java.util.TreeSet<>(flags.keySet())));
            Map<String, Object> r = new LinkedHashMap<>();
            m.forEach((k, v) -> r.put(flags.get(k), scalar(path + "." + k, v)));
            return r;
        }

        private Map<String, Object> evaluation(Object o) {
            Map<String, Object> m = map("evaluation", o);
            List<String> allowed = List.of("enabled", "max_windows", "seq_len", "texts");
            keys("evaluation", m, allowed);
            Map<String, Object> r = new LinkedHashMap<>();
            if (m.containsKey("enabled")) {
                if (!(m.get("enabled") instanceof Boolean b)) throw bad("evaluation.enabled", "expected true or false, got " + kind(m.get("enabled")));
                if (!b) {
                    if (m.size() > 1) throw bad("evaluation", "enabled: false takes no other key");
                    r.put("no-eval", true);
                    return r;
                }
            }
            if (m.containsKey("texts")) {
                Object t = m.get("texts");
                List<Object> texts = t instanceof List<?> l ? new ArrayList<>(l) : new ArrayList<>(List.of(scalar("evaluation.texts", t)));
                if (texts.isEmpty()) throw bad("evaluation.texts", "empty list (leave the key out for the model's own generations)");
                for (int i = 0; i < texts.size(); i++) scalar("evaluation.texts[" + i + "]", texts.get(i));
                r.put("eval", texts);
            }
            for (String k : List.of("seq_len", "max_windows")) {
                if (m.containsKey(k)) r.put(RecipeArgv.EVALUATION.get(k), scalar("evaluation." + k, m.get(k)));
            }
            return r;
        }

        private List<Recipe.Stage> stages(Object o) {
            if (o == null) throw bad("stages", "missing: a recipe runs at least one stage (" + String.join(", ", STAGES) + ")");
            if (!(o instanceof List<?> list) || list.isEmpty()) throw bad("stages", "expected a non-empty list of stages, got " + kind(o));
            List<Recipe.Stage> r = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                String path = "stages[" + i + "]";
                Map<String, Object> m = map(path, list.get(i));
                if (m.size() != 1) throw bad(path, "one stage per list item, e.g. - quantize: {method: gptq, bits: 4} (got " + m.size() + " keys)");
                String command = m.keySet().iterator().next();
                if (!STAGES.contains(command)) {
                    throw bad(path + "." + command, "unknown stage" + Suggest.didYouMean(command, STAGES) + " (expected " + String.join(", ", STAGES) + ")");
                }
                boolean last = i == list.size() - 1;
                r.add(new Recipe.Stage(command, stageOptions(path + "." + command, command, m.get(command), last)));
            }
            return r;
        }

        /** The recipe's {@code overrides} as {@code --override} flags of every quantize stage (the only stage that takes them). */
        private List<Recipe.Stage> withOverrides(List<Recipe.Stage> stages, Object o) {
            if (o == null) return stages;
            if (!(o instanceof List<?> list) || list.isEmpty()) throw bad("overrides", "expected a non-empty list of {match: REGEX, ...}, got " + kind(o));
            if (stages.stream().noneMatch(s -> s.command().equals("quantize"))) {
                throw bad("overrides", "per-module overrides apply to quantize stages, and this recipe has none");
            }
            List<Object> flags = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                String path = "overrides[" + i + "]";
                flags.add(OverrideSpec.flag(OverrideSpec.rule(map(path, list.get(i)), label + ": " + path)));
            }
            List<Recipe.Stage> r = new ArrayList<>();
            for (Recipe.Stage s : stages) {
                if (!s.command().equals("quantize")) {
                    r.add(s);
                    continue;
                }
                Map<String, Object> options = new LinkedHashMap<>(s.options());
                options.put("override", flags);
                r.add(new Recipe.Stage(s.command(), options));
            }
            return r;
        }

        /** A stage's options: its command's own flags ({@code group_size} or {@code group-size}), methods checked by name. */
        private Map<String, Object> stageOptions(String path, String command, Object o, boolean last) {
            Map<String, Object> m = map(path, o);
            Map<String, Option> allowed = RecipeReader.stageOptions(command);
            Map<String, Object> r = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : m.entrySet()) {
                String key = e.getKey();
                String flag = key.replace('_', '-');
                String at = path + "." + key;
                if (last && flag.equals("format")) throw bad(at, "the last stage's format is chosen per output: outputs: [{format: ...}]");
                if (RecipeArgv.CALIBRATION.containsValue(flag) || flag.equals("calib")) {
                    throw bad(at, "calibration is shared by every stage: set it under calibration (text, samples, seq_len, seed)");
                }
                if (RecipeArgv.EVALUATION.containsValue(flag) || flag.equals("no-eval")) {
                    throw bad(at, "every output is evaluated against the original: set it under evaluation");
                }
                if (RecipeArgv.RUN_FLAGS.contains(flag)) throw bad(at, "a flag of the run, not of the recipe: give --" + flag + " to shrink4j run");
                if (flag.equals("override")) throw bad(at, "per-module overrides go under overrides: [{match: REGEX, bits: B}] at the top of the recipe");
                Option opt = allowed.get(flag);
                if (opt == null) {
                    List<String> names = List.copyOf(allowed.keySet());
                    throw bad(at, "unknown key" + Suggest.didYouMean(flag, names) + " (options of " + command + ": " + String.join(", ", names) + ")");
                }
                Object v = e.getValue();
                if (!opt.hasArg()) {
                    if (!(v instanceof Boolean)) throw bad(at, "expected true or false, got " + kind(v));
                } else {
                    scalar(at, v);
                }
                if (flag.equals("method") || flag.equals("base")) {
                    List<String> known = flag.equals("base") ? QuantizeCommand.BASES : methods(command);
                    String name = scalarText(v).toLowerCase(Locale.ROOT);
                    if (!known.contains(name)) {
                        throw bad(at, scalarText(v) + ": unknown " + (flag.equals("base") ? "base" : command + " method")
                                + Suggest.didYouMean(name, known) + " (expected one of " + String.join(", ", known) + ")");
                    }
                }
                r.put(flag, v);
            }
            return r;
        }

        private List<Recipe.Output> outputs(Object o, Recipe.Stage last, boolean evaluates) {
            List<?> list = o == null ? List.of(new LinkedHashMap<String, Object>()) : o instanceof List<?> l ? l : null;
            if (list == null || list.isEmpty()) throw bad("outputs", "expected a non-empty list of outputs, got " + kind(o));
            List<String> keys = new ArrayList<>(OUTPUT_KEYS);
            keys.add(last.command());
            List<Recipe.Output> r = new ArrayList<>();
            Set<String> names = new java.util.HashSet<>();
            for (int i = 0; i < list.size(); i++) {
                String path = "outputs[" + i + "]";
                Map<String, Object> m = map(path, list.get(i));
                keys(path, m, keys);
                Map<String, Object> options = new LinkedHashMap<>(last.options());
                options.putAll(stageOptions(path + "." + last.command(), last.command(), m.get(last.command()), false));
                String format = m.containsKey("format") ? scalarText(scalar(path + ".format", m.get("format"))) : null;
                if (format != null) options.put("format", format);
                String name = m.containsKey("name") ? scalarText(scalar(path + ".name", m.get("name"))) : format != null ? format : "output" + (list.size() > 1 ? i : "");
                if (!NAME.matcher(name).matches()) throw bad(path + ".name", "'" + name + "': a directory name of letters, digits, '.', '_' or '-'");
                if (!names.add(name)) throw bad(path + ".name", "'" + name + "' names two outputs (give each its own name)");
                double maxKl = gate(path + ".max_kl", m.get("max_kl"));
                double maxDeltaNll = gate(path + ".max_delta_nll", m.get("max_delta_nll"));
                Recipe.Output out = new Recipe.Output(name, options, maxKl, maxDeltaNll);
                if (out.gated() && !evaluates) throw bad(path, "a quality gate needs the evaluation, and evaluation.enabled is false");
                r.add(out);
            }
            return r;
        }

        private double gate(String path, Object v) {
            if (v == null) return Double.NaN;
            if (!(v instanceof Number n) || !(n.doubleValue() >= 0) || Double.isInfinite(n.doubleValue())) {
                throw bad(path, "expected a number ≥ 0 (nats per token), got " + kind(v));
            }
            return n.doubleValue();
        }
    }
}
