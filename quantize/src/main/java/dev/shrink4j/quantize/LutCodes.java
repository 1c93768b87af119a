package dev.shrink4j.quantize;

/**
 * A non-uniformly (look-up table) quantized matrix, as SqueezeLLM and LNQ produce it (docs/methods/squeezellm.md, docs/methods/guidedquant-lnq.md §5.7),
 * with one codebook per row ({@code groupSize = d_in}) or per group of {@code groupSize} consecutive
 * input columns of a row: ŵ[j][i] = lut[j][i / groupSize][codes[j][i]].
 *
 * @param codes     (d_out, d_in) codes in [0, 2^bits), unpacked
 * @param lut       (d_out, n_groups, 2^bits) fp16-representable codebooks
 * @param groupSize input columns per codebook (d_in: one per row)
 */
public record LutCodes(int dOut, int dIn, int bits, int groupSize, byte[] codes, float[] lut) {
    public LutCodes {
        if (groupSize < 1 || codes.length != dOut * dIn || lut.length != dOut * groups(dIn, groupSize) * (1 << bits)) {
            throw new IllegalArgumentException("inconsistent LUT quantization arrays");
        }
    }

    /** One codebook per row. */
    public LutCodes(int dOut, int dIn, int bits, byte[] codes, float[] lut) {
        this(dOut, dIn, bits, dIn, codes, lut);
    }

    static int groups(int dIn, int groupSize) {
        return (dIn + groupSize - 1) / groupSize;
    }

    public int levels() {
        return 1 << bits;
    }

    public int nGroups() {
        return groups(dIn, groupSize);
    }

    public float[] dequantize() {
        int m = levels(), ng = nGroups();
        float[] w = new float[dOut * dIn];
        for (int j = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) {
                w[j * dIn + i] = lut[(j * ng + i / groupSize) * m + (codes[j * dIn + i] & 0xFF)];
            }
        }
        return w;
    }
}
