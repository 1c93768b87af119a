package dev.shrink4j.quantize;

import dev.shrink4j.tensors.ShrinkException;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The quantization methods of {@code shrink4j quantize --method}, with what each needs (docs/methods/pipeline.md §4). */
public enum QuantMethod {
    /** docs/methods/rtn-gptq.md §1, no calibration needed (H is still gathered for the report). */
    RTN("rtn", true, false),
    /** docs/methods/rtn-gptq.md §2 with compressed propagation. */
    GPTQ("gptq", true, false),
    /** docs/methods/squeezellm.md, Fisher from a full backward pass. */
    SQUEEZELLM("squeezellm", false, true),
    /** docs/methods/guidedquant-lnq.md §5 with SqueezeLLM init and dense propagation. */
    LNQ("lnq", false, true),
    /** docs/methods/guidedquant-lnq.md §4 guided LNQ: the paper's flagship. */
    GUIDEDQUANT("guidedquant", false, true),
    /** docs/methods/guidedquant-lnq.md §4 guided GPTQ: H̄_k drives GPTQ. */
    GUIDED_GPTQ("guided-gptq", true, true);

    private final String cliName;
    private final boolean uniform;
    private final boolean needsGradients;

    QuantMethod(String cliName, boolean uniform, boolean needsGradients) {
        this.cliName = cliName;
        this.uniform = uniform;
        this.needsGradients = needsGradients;
    }

    public String cliName() {
        return cliName;
    }

    /** Uniform grid with scales/zeros (RTN, GPTQ); otherwise a per-row look-up table. */
    public boolean uniform() {
        return uniform;
    }

    /** Needs a full-model backward pass (Fisher or output-gradient saliencies). */
    public boolean needsGradients() {
        return needsGradients;
    }

    /** Inputs of block b+1 from the original block b (docs/methods/pipeline.md §2.3) rather than the compressed one. */
    public boolean densePropagation() {
        return this == SQUEEZELLM || this == LNQ || this == GUIDEDQUANT;
    }

    public boolean guided() {
        return this == GUIDEDQUANT || this == GUIDED_GPTQ;
    }

    public static QuantMethod parse(String name) {
        for (QuantMethod m : values()) {
            if (m.cliName.equals(name)) return m;
        }
        throw new ShrinkException("unknown method '" + name + "'; expected one of "
                + Arrays.stream(values()).map(QuantMethod::cliName).collect(Collectors.joining(", ")));
    }
}
