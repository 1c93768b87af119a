package dev.shrink4j.quantize;

import dev.shrink4j.tensors.ShrinkException;

/**
 * What to quantize and how (defaults from docs/methods/rtn-gptq.md, squeezellm.md and guidedquant-lnq.md).
 *
 * @param groupSize    G_q for uniform methods (128 by default); ignored by LUT methods (per-row codebook)
 * @param symmetric    symmetric grid (uniform methods; asymmetric with zero points by default)
 * @param guidedGroups g of docs/methods/guidedquant-lnq.md §2; 0 = docs/methods/guidedquant-lnq.md §6 default (4 when d_out divides, else 1)
 * @param actOrder     GPTQ act-order (with static groups)
 * @param lnqIterations T of docs/methods/guidedquant-lnq.md §5 (2)
 * @param lnqSweeps     K of docs/methods/guidedquant-lnq.md §5 (4)
 * @param lutGroup      LUT methods: input columns per codebook; 0 = one codebook per row (default)
 */
public record QuantizeOptions(QuantMethod method, int bits, int groupSize, boolean symmetric, int guidedGroups,
                              boolean actOrder, int lnqIterations, int lnqSweeps, int lutGroup) {
    public QuantizeOptions {
        if (bits != 2 && bits != 3 && bits != 4 && bits != 8) {
            throw new ShrinkException("--bits " + bits + " is not supported; expected 2, 3, 4 or 8");
        }
        if (groupSize < 1) {
            throw new ShrinkException("--group-size " + groupSize + " must be positive");
        }
        if (guidedGroups < 0) {
            throw new ShrinkException("--guided-groups " + guidedGroups + " must be positive");
        }
        if (lutGroup != 0 && lutGroup < (1 << bits)) {
            throw new ShrinkException("--lut-group " + lutGroup + " must be at least 2^bits = " + (1 << bits)
                    + " (a codebook of 2^b entries per group of fewer weights only wastes bits)");
        }
    }

    public QuantizeOptions(QuantMethod method, int bits, int groupSize, boolean symmetric, int guidedGroups,
                           boolean actOrder, int lnqIterations, int lnqSweeps) {
        this(method, bits, groupSize, symmetric, guidedGroups, actOrder, lnqIterations, lnqSweeps, 0);
    }

    public static QuantizeOptions defaults(QuantMethod method, int bits) {
        return new QuantizeOptions(method, bits, 128, false, 0, true, 2, 4);
    }

    public QuantizeOptions withGroupSize(int g) {
        return new QuantizeOptions(method, bits, g, symmetric, guidedGroups, actOrder, lnqIterations, lnqSweeps, lutGroup);
    }

    public QuantizeOptions withSymmetric(boolean s) {
        return new QuantizeOptions(method, bits, groupSize, s, guidedGroups, actOrder, lnqIterations, lnqSweeps, lutGroup);
    }

    public QuantizeOptions withGuidedGroups(int g) {
        return new QuantizeOptions(method, bits, groupSize, symmetric, g, actOrder, lnqIterations, lnqSweeps, lutGroup);
    }

    /** One codebook per group of {@code g} input columns per row for the LUT methods (0: per row). */
    public QuantizeOptions withLutGroup(int g) {
        return new QuantizeOptions(method, bits, groupSize, symmetric, guidedGroups, actOrder, lnqIterations, lnqSweeps, g);
    }

    /** Input columns per codebook for a module with d_in columns. */
    int lutGroupFor(int dIn) {
        return lutGroup == 0 ? dIn : Math.min(lutGroup, dIn);
    }

    /** Guided groups for a module with d_out rows (docs/methods/guidedquant-lnq.md §6). */
    public int guidedGroupsFor(int dOut) {
        if (guidedGroups == 0) return GuidedHessians.defaultGroups(dOut);
        if (dOut % guidedGroups != 0) {
            throw new ShrinkException("--guided-groups " + guidedGroups + " does not divide a module's " + dOut + " output channels");
        }
        return guidedGroups;
    }

    GptqOptions gptq() {
        return GptqOptions.defaults(bits, groupSize, symmetric).withActOrder(actOrder, true);
    }

    LnqOptions lnq() {
        return LnqOptions.defaults(bits).withIterations(lnqIterations, lnqSweeps);
    }
}
