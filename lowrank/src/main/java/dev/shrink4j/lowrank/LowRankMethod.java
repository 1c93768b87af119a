package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.ShrinkException;
import java.util.Arrays;

/** The factorizations {@code shrink4j lowrank} offers, with what each needs from calibration (docs/methods/pipeline.md §4). */
public enum LowRankMethod {
    /** docs/methods/lowrank-lost.md §1, weights only. */
    SVD("svd", false, false, false),
    /** docs/methods/lowrank-lost.md §2, needs H = XᵀX. */
    WHITENED_SVD("whitened-svd", true, false, false),
    /** docs/methods/lowrank-lost.md §3, needs mean |X| per input channel. */
    ASVD("asvd", false, true, false),
    /** docs/methods/lowrank-lost.md §4/§7.3 post-training defaults, weights only. */
    LOST("lost", false, false, true),
    /** docs/methods/lowrank-lost.md §6 activation-aware option: whitened W_r, columns scored by residual norm × ‖X_j‖. */
    LOST_WHITENED("lost-whitened", true, false, true);

    private final String cliName;
    private final boolean gram;
    private final boolean meanAbs;
    private final boolean lost;

    LowRankMethod(String cliName, boolean gram, boolean meanAbs, boolean lost) {
        this.cliName = cliName;
        this.gram = gram;
        this.meanAbs = meanAbs;
        this.lost = lost;
    }

    public String cliName() {
        return cliName;
    }

    /** Whether the method reads H = XᵀX of each linear's input. */
    public boolean needsGram() {
        return gram;
    }

    /** Whether the method reads mean |X| per input channel. */
    public boolean needsMeanAbs() {
        return meanAbs;
    }

    public boolean needsCalibration() {
        return gram || meanAbs;
    }

    /** Whether the result has a column-sparse part (stored as low-rank + column-sparse). */
    public boolean isLost() {
        return lost;
    }

    public static LowRankMethod parse(String name) {
        for (LowRankMethod m : values()) {
            if (m.cliName.equals(name)) return m;
        }
        throw new ShrinkException("unknown low-rank method '" + name + "'; expected one of "
                + String.join(", ", Arrays.stream(values()).map(LowRankMethod::cliName).toList()));
    }
}
