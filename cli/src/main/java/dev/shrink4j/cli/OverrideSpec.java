package dev.shrink4j.cli;

import dev.shrink4j.quantize.ModuleOverrides;
import dev.shrink4j.quantize.QuantMethod;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A per-module override in its two spellings: the quantize flag {@code --override REGEX=SETTINGS}
 * ({@code SETTINGS}: {@code skip}, or {@code bits:8,group_size:32,method:rtn}) and the recipe entry
 * {@code {match: REGEX, bits: 8, ...}} (docs/recipes.md). One parser for both, so they cannot disagree.
 */
final class OverrideSpec {
    static final List<String> KEYS = List.of("match", "skip", "bits", "group_size", "method");

    private OverrideSpec() {}

    /** {@code --override} value → rule; {@code label} names the flag or recipe key in messages. */
    static ModuleOverrides.Rule parse(String spec, String label) {
        int eq = spec.lastIndexOf('=');
        if (eq <= 0) throw new UsageException(label + " " + spec + ": expected REGEX=skip or REGEX=bits:B[,group_size:G][,method:M]");
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("match", spec.substring(0, eq));
        for (String kv : spec.substring(eq + 1).split(",")) {
            String t = kv.trim();
            if (t.equals("skip")) {
                m.put("skip", true);
                continue;
            }
            int colon = t.indexOf(':');
            if (colon <= 0) throw new UsageException(label + " " + spec + ": '" + t + "' is not KEY:VALUE (keys: skip, bits, group_size, method)");
            m.put(t.substring(0, colon).trim(), t.substring(colon + 1).trim());
        }
        return rule(m, label + " " + spec);
    }

    /** Recipe entry (or a parsed flag) → rule, every key and value checked. */
    static ModuleOverrides.Rule rule(Map<String, Object> m, String where) {
        for (String k : m.keySet()) {
            if (!KEYS.contains(k)) throw new UsageException(where + ": " + k + ": unknown key" + Suggest.didYouMean(k, KEYS) + " (expected " + String.join(", ", KEYS) + ")");
        }
        if (!(m.get("match") instanceof String regex) || regex.isEmpty()) throw new UsageException(where + ": match: a regular expression on module names is required");
        Pattern p;
        try {
            p = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new UsageException(where + ": match: '" + regex + "' is not a regular expression (" + e.getDescription() + ")");
        }
        boolean skip = m.containsKey("skip") && switch (m.get("skip")) {
            case Boolean b -> b;
            case Object o -> throw new UsageException(where + ": skip: expected true or false, got '" + o + "'");
        };
        Integer bits = m.containsKey("bits") ? integer(where, "bits", m.get("bits")) : null;
        if (bits != null && !List.of(2, 3, 4, 8).contains(bits)) throw new UsageException(where + ": bits " + bits + ": not supported (expected one of 2, 3, 4, 8)");
        Integer group = m.containsKey("group_size") ? integer(where, "group_size", m.get("group_size")) : null;
        if (group != null && group < 1) throw new UsageException(where + ": group_size must be at least 1, got " + group);
        QuantMethod method = null;
        if (m.containsKey("method")) {
            String name = RecipeReader.scalarText(m.get("method")).toLowerCase(Locale.ROOT);
            List<String> known = QuantizeCommand.METHODS.stream().filter(x -> !x.equals("requant")).toList();
            if (!known.contains(name)) throw new UsageException(where + ": method " + name + ": unknown" + Suggest.didYouMean(name, known) + " (expected one of " + String.join(", ", known) + ")");
            method = QuantMethod.parse(name);
        }
        if (skip && (bits != null || group != null || method != null)) throw new UsageException(where + ": skip keeps the module as it is; drop bits, group_size and method");
        if (!skip && bits == null && group == null && method == null) throw new UsageException(where + ": says nothing to change (skip, bits, group_size or method)");
        return new ModuleOverrides.Rule(p, skip, bits, group, method);
    }

    private static int integer(String where, String key, Object v) {
        try {
            return Integer.parseInt(RecipeReader.scalarText(v));
        } catch (NumberFormatException e) {
            throw new UsageException(where + ": " + key + ": expected an integer, got '" + v + "'");
        }
    }

    /** Rule → the {@code --override} value that parses back to it. */
    static String flag(ModuleOverrides.Rule r) {
        List<String> s = new ArrayList<>();
        if (r.skip()) s.add("skip");
        if (r.bits() != null) s.add("bits:" + r.bits());
        if (r.groupSize() != null) s.add("group_size:" + r.groupSize());
        if (r.method() != null) s.add("method:" + r.method().cliName());
        return r.match().pattern() + "=" + String.join(",", s);
    }

    /** Rule → recipe entry. */
    static Map<String, Object> entry(ModuleOverrides.Rule r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("match", r.match().pattern());
        if (r.skip()) m.put("skip", true);
        if (r.bits() != null) m.put("bits", (long) r.bits());
        if (r.groupSize() != null) m.put("group_size", (long) r.groupSize());
        if (r.method() != null) m.put("method", r.method().cliName());
        return m;
    }
}
