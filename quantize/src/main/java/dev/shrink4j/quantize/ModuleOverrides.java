package dev.shrink4j.quantize;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Per-module settings that differ from the run's: a regular expression on module names
 * ({@code model.layers.3.mlp.down_proj}, matched anywhere in the name) and what changes for the modules
 * it matches: kept unquantized, another bit-width, another group size, or another method. Every rule
 * that matches applies, in order, so a later rule refines an earlier one.
 *
 * <p>A method may be overridden only by one that needs no statistics the run does not gather: RTN
 * anywhere; otherwise a method with the same kind of Hessian (plain or guided, docs/methods/guidedquant-lnq.md §2)
 * that needs gradients only where the run's method gathers them.
 */
public final class ModuleOverrides {
    /** No overrides. */
    public static final ModuleOverrides NONE = new ModuleOverrides(List.of());

    /**
     * One rule; null fields leave the run's setting.
     *
     * @param match     found anywhere in the module name
     * @param skip      keep the module's input weight as it is (not quantized; counted at its stored size)
     * @param bits      2, 3, 4 or 8
     * @param groupSize uniform methods: columns per scale
     * @param method    see the class comment
     */
    public record Rule(Pattern match, boolean skip, Integer bits, Integer groupSize, QuantMethod method) {}

    private final List<Rule> rules;

    public ModuleOverrides(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }

    public List<Rule> rules() {
        return rules;
    }

    /**
     * Refuses what the run cannot do with {@code base} (one message naming the rule), e.g. a guided
     * method where the run gathers plain Hessians, or a group size for a LUT method.
     */
    public void check(QuantizeOptions base) {
        for (Rule r : rules) {
            QuantMethod m = r.method() == null ? base.method() : r.method();
            if (r.method() != null && !compatible(base, r.method())) {
                throw new IllegalArgumentException("override " + r.match() + ": method " + r.method().cliName() + " needs statistics a "
                        + base.method().cliName() + " run does not gather (rtn works anywhere; otherwise the same kind of Hessian: "
                        + (base.method().guided() ? "guidedquant, guided-gptq" : base.method().needsGradients() ? "gptq, squeezellm" : "gptq") + ")");
            }
            if (r.groupSize() != null && !m.uniform()) {
                throw new IllegalArgumentException("override " + r.match() + ": group_size applies to uniform methods (rtn, gptq, guided-gptq), not " + m.cliName());
            }
            optionsFor(r, base); // QuantizeOptions checks bits and group size
        }
    }

    private static boolean compatible(QuantizeOptions base, QuantMethod m) {
        if (m == QuantMethod.RTN) return true;
        if (base.method() == QuantMethod.RTN) return false; // possibly data-free: no H at all
        return m.guided() == base.method().guided() && (!m.needsGradients() || base.method().needsGradients());
    }

    /** Whether {@code module} is kept unquantized. */
    public boolean skips(String module) {
        boolean skip = false;
        for (Rule r : rules) if (r.match().matcher(module).find()) skip |= r.skip();
        return skip;
    }

    /** The options for {@code module}: {@code base} with every matching rule applied in order. */
    public QuantizeOptions optionsFor(String module, QuantizeOptions base) {
        QuantizeOptions o = base;
        for (Rule r : rules) if (r.match().matcher(module).find()) o = optionsFor(r, o);
        return o;
    }

    private static QuantizeOptions optionsFor(Rule r, QuantizeOptions o) {
        return new QuantizeOptions(r.method() == null ? o.method() : r.method(), r.bits() == null ? o.bits() : r.bits(),
                r.groupSize() == null ? o.groupSize() : r.groupSize(), o.symmetric(), o.guidedGroups(), o.actOrder(), o.lnqIterations(),
                o.lnqSweeps(), o.lutGroup() != 0 && r.bits() != null && o.lutGroup() < (1 << r.bits()) ? 1 << r.bits() : o.lutGroup());
    }

    /** The rules whose expression matches none of {@code modules}: likely a typo, worth a warning. */
    public List<Rule> unmatched(Collection<String> modules) {
        List<Rule> r = new ArrayList<>();
        for (Rule rule : rules) {
            if (modules.stream().noneMatch(m -> rule.match().matcher(m).find())) r.add(rule);
        }
        return r;
    }
}
