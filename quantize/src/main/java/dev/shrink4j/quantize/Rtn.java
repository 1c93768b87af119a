package dev.shrink4j.quantize;

/** Round-to-nearest, METHODS.md §2.1: per row, per group of G_q consecutive input columns. */
public final class Rtn {
    private Rtn() {}

    /**
     * @param w         (d_out, d_in) weight, row-major; not modified
     * @param groupSize G_q (d_in or more = one group per row); the last group may be shorter
     */
    public static UniformCodes quantize(float[] w, int dOut, int dIn, int bits, int groupSize, boolean symmetric) {
        UniformGrid.checkBits(bits);
        int gs = Math.min(groupSize, dIn);
        int ng = UniformCodes.groups(dIn, gs);
        int maxq = UniformGrid.maxq(bits);
        byte[] codes = new byte[dOut * dIn];
        float[] scales = new float[dOut * ng];
        byte[] zeros = new byte[dOut * ng];
        float[] sz = new float[2];
        for (int j = 0; j < dOut; j++) {
            int row = j * dIn;
            for (int g = 0; g < ng; g++) {
                int from = g * gs;
                int to = Math.min(dIn, from + gs);
                float min = Float.POSITIVE_INFINITY;
                float max = Float.NEGATIVE_INFINITY;
                for (int i = from; i < to; i++) {
                    min = Math.min(min, w[row + i]);
                    max = Math.max(max, w[row + i]);
                }
                UniformGrid.fit(min, max, bits, symmetric, sz);
                scales[j * ng + g] = sz[0];
                zeros[j * ng + g] = (byte) sz[1];
                for (int i = from; i < to; i++) {
                    codes[row + i] = (byte) UniformGrid.code(w[row + i], sz[0], sz[1], maxq);
                }
            }
        }
        return new UniformCodes(dOut, dIn, bits, gs, symmetric, codes, scales, zeros, null);
    }
}
