package dev.shrink4j.quantize;

import dev.shrink4j.tensors.formats.UniformGrid;

/**
 * Round-to-nearest, docs/methods/rtn-gptq.md §1, as unpacked codes for the quantizers that start from
 * it: the grid and the loop are {@link UniformGrid#rtn}, the one RTN of the project.
 */
public final class Rtn {
    private Rtn() {}

    /**
     * @param w         (d_out, d_in) weight, row-major; not modified
     * @param groupSize G_q (d_in or more = one group per row); the last group may be shorter
     */
    public static UniformCodes quantize(float[] w, int dOut, int dIn, int bits, int groupSize, boolean symmetric) {
        int gs = UniformGrid.effectiveGroupSize(groupSize, dIn);
        int ng = UniformCodes.groups(dIn, gs);
        byte[] codes = new byte[dOut * dIn];
        float[] scales = new float[dOut * ng];
        byte[] zeros = new byte[dOut * ng];
        UniformGrid.rtn(w, dOut, dIn, bits, gs, symmetric, codes, scales, zeros);
        return new UniformCodes(dOut, dIn, bits, gs, symmetric, codes, scales, zeros, null);
    }
}
