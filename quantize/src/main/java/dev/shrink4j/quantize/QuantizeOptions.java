package dev.shrink4j.quantize;

import dev.shrink4j.tensors.ShrinkException;

/**
 * What to quantize and how (METHODS.md §2–§3 defaults).
 *
 * @param groupSize    G_q for uniform methods (128 by default); ignored by LUT methods (per-row codebook)
 * @param symmetric    symmetric grid (uniform methods; asymmetric with zero points by default)
 * @param guidedGroups g of §3.2; 0 = §3.6 default (4 when d_out divides, else 1)
 * @param actOrder     GPTQ act-order (with static groups)
 * @param lnqIterations T of §3.5 (2)
 * @param lnqSweeps     K of §3.5 (4)
 */
public record QuantizeOptions(QuantMethod method, int bits, int groupSize, boolean symmetric, int guidedGroups,
                              boolean actOrder, int lnqIterations, int lnqSweeps) {
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
    }

    public static QuantizeOptions defaults(QuantMethod method, int bits) {
        return new QuantizeOptions(method, bits, 128, false, 0, true, 2, 4);
    }

    public QuantizeOptions withGroupSize(int g) {
        return new QuantizeOptions(method, bits, g, symmetric, guidedGroups, actOrder, lnqIterations, lnqSweeps);
    }

    public QuantizeOptions withSymmetric(boolean s) {
        return new QuantizeOptions(method, bits, groupSize, s, guidedGroups, actOrder, lnqIterations, lnqSweeps);
    }

    public QuantizeOptions withGuidedGroups(int g) {
        return new QuantizeOptions(method, bits, groupSize, symmetric, g, actOrder, lnqIterations, lnqSweeps);
    }

    /** Guided groups for a module with d_out rows (§3.6). */
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
