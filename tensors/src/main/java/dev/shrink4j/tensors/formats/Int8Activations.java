package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.Floats;

/**
 * Activations quantized to int8 per block of {@value #BLOCK} consecutive values, as ggml's Q8_0 and
 * jlama's I8 do: d_b = max|x| / 127 over block b, q_i = round(x_i / d_b) in [−127, 127], x_i ≈ d_b·q_i.
 * The rounding follows ggml's {@code quantize_row_q8_0_ref} (codes from the F32 d, the scale kept
 * rounded to F16), so a dot with Q4_0 weights sees the same integers llama.cpp's does. The last
 * block may be shorter. Also holds each block's code sum, for zero-point terms.
 *
 * @param n      values (rows × cols for {@link #rows} rows)
 * @param q      codes (n), row-major
 * @param scales d_b (rows · ceil(cols / 32)), F16-exact
 * @param sums   Σ_{i∈b} q_i per block, same indexing as scales
 * @param cols   values per row; blocks never straddle rows
 */
public record Int8Activations(int n, int cols, byte[] q, float[] scales, int[] sums) {
    /** Values per quantization block. */
    public static final int BLOCK = 32;

    /** Rows held ({@code n / cols}). */
    public int rows() {
        return n / cols;
    }

    /** Blocks per row: ceil(cols / 32). */
    public int blocksPerRow() {
        return (cols + BLOCK - 1) / BLOCK;
    }

    /**
     * x̂ = d_b·q_i widened back to F32 (rows·cols): multiplying these with F32 kernels gives the int8
     * block dots' products up to float rounding, which is how a batch takes the GEMM path.
     */
    public float[] dequantize() {
        float[] x = new float[n];
        int nb = blocksPerRow();
        for (int i = 0; i < n; i++) {
            int r = i / cols;
            x[i] = scales[r * nb + (i - r * cols) / BLOCK] * q[i];
        }
        return x;
    }

    /** Quantizes {@code rows} rows of {@code cols} values of x (rows·cols, row-major). */
    public static Int8Activations quantize(float[] x, int rows, int cols) {
        int nb = (cols + BLOCK - 1) / BLOCK;
        int n = Math.multiplyExact(rows, cols);
        byte[] q = new byte[n];
        float[] scales = new float[rows * nb];
        int[] sums = new int[rows * nb];
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < nb; b++) {
                int i0 = r * cols + b * BLOCK, i1 = r * cols + Math.min(cols, (b + 1) * BLOCK);
                float amax = 0;
                for (int i = i0; i < i1; i++) amax = Math.max(amax, Math.abs(x[i]));
                float d = amax / 127f;
                float id = d != 0 ? 1f / d : 0f;
                int s = 0;
                for (int i = i0; i < i1; i++) {
                    int v = roundHalfAway(x[i] * id);
                    q[i] = (byte) v;
                    s += v;
                }
                scales[r * nb + b] = Floats.f16ToF32(Floats.f32ToF16(d));
                sums[r * nb + b] = s;
            }
        }
        return new Int8Activations(n, cols, q, scales, sums);
    }

    /** C's {@code roundf}: halves away from zero. */
    private static int roundHalfAway(float v) {
        return (int) (v < 0 ? -Math.floor(-v + 0.5f) : Math.floor(v + 0.5f));
    }
}
