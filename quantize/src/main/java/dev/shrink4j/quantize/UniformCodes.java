package dev.shrink4j.quantize;

import dev.shrink4j.tensors.formats.UniformGrid;

/**
 * A uniformly quantized matrix as the quantizers produce it (codes unpacked, one byte each); the
 * formats module packs it. Its bits per weight are those of the packed format
 * ({@link dev.shrink4j.tensors.formats.CompressedWeight#bitsPerWeight}, from the stored bytes).
 * Dequantized value: ŵ[j][i] = scales[j][g]·(codes[j][i] − zeros[j][g]) with
 * g = gIdx[i], or i / groupSize when gIdx is null (contiguous groups, ragged last group).
 *
 * @param codes  (d_out, d_in) codes in [0, 2^bits)
 * @param scales (d_out, groups) fp16-representable scales
 * @param zeros  (d_out, groups) integer zero points in [0, 2^bits)
 * @param gIdx   (d_in) group of each input column, or null
 */
public record UniformCodes(int dOut, int dIn, int bits, int groupSize, boolean symmetric,
                               byte[] codes, float[] scales, byte[] zeros, int[] gIdx) {

    public UniformCodes {
        if (codes.length != dOut * dIn || scales.length != dOut * groups(dIn, groupSize)
                || zeros.length != scales.length || (gIdx != null && gIdx.length != dIn)) {
            throw new IllegalArgumentException("inconsistent uniform quantization arrays");
        }
    }

    /** ⌈d_in / G_q⌉. */
    public static int groups(int dIn, int groupSize) {
        return (dIn + groupSize - 1) / groupSize;
    }

    public int groups() {
        return groups(dIn, groupSize);
    }

    public int group(int column) {
        return gIdx == null ? column / groupSize : gIdx[column];
    }

    /** The dequantized weight, (d_out, d_in). */
    public float[] dequantize() {
        int ng = groups();
        float[] w = new float[dOut * dIn];
        for (int j = 0; j < dOut; j++) {
            for (int i = 0; i < dIn; i++) {
                int g = j * ng + group(i);
                w[j * dIn + i] = UniformGrid.dequant(codes[j * dIn + i] & 0xFF, scales[g], zeros[g] & 0xFF);
            }
        }
        return w;
    }
}
