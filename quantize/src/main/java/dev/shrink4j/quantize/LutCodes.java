package dev.shrink4j.quantize;

/**
 * A non-uniformly (look-up table) quantized matrix with one codebook per row, as SqueezeLLM and LNQ
 * produce it (§2.3, §3.5.7): ŵ[j][i] = lut[j][codes[j][i]].
 *
 * @param codes (d_out, d_in) codes in [0, 2^bits), unpacked
 * @param lut   (d_out, 2^bits) fp16-representable codebooks
 */
public record LutCodes(int dOut, int dIn, int bits, byte[] codes, float[] lut) {
    public LutCodes {
        if (codes.length != dOut * dIn || lut.length != dOut * (1 << bits)) {
            throw new IllegalArgumentException("inconsistent LUT quantization arrays");
        }
    }

    public int levels() {
        return 1 << bits;
    }

    public float[] dequantize() {
        int m = levels();
        float[] w = new float[dOut * dIn];
        for (int j = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) {
                w[j * dIn + i] = lut[j * m + (codes[j * dIn + i] & 0xFF)];
            }
        }
        return w;
    }

    /** §3.7: b + 16·2^b/d_in. */
    public double bitsPerWeight() {
        return bits + 16.0 * levels() / dIn;
    }
}
