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
     * x̂ = d_b·q_i, x quantized exactly as {@link #quantize} does and widened back to F32 at once, rows
     * split across the pool (rows·cols). Multiplying x̂ with F32 kernels gives the int8 block dots'
     * products up to float rounding: how a batch with int8 activations takes the GEMM path.
     */
    public static float[] roundTrip(float[] x, int rows, int cols) {
        float[] out = new float[Math.multiplyExact(rows, cols)];
        dev.shrink4j.tensors.Parallel.forRange(rows, 16, dev.shrink4j.tensors.Parallel.threads(), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                for (int i0 = r * cols, end = i0 + cols; i0 < end; i0 += BLOCK) {
                    int i1 = Math.min(end, i0 + BLOCK);
                    float amax = 0;
                    for (int i = i0; i < i1; i++) amax = Math.max(amax, Math.abs(x[i]));
                    float d = amax / 127f;
                    float id = d != 0 ? 1f / d : 0f;
                    float dh = Floats.f16ToF32(Floats.f32ToF16(d));
                    for (int i = i0; i < i1; i++) out[i] = dh * roundHalfAway(x[i] * id);
                }
            }
        });
        return out;
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

    /** C's {@code roundf}: halves away from zero (the float sum v ± 0.5 truncated, as floor of it for |v| ≤ 127). */
    private static int roundHalfAway(float v) {
        return v < 0 ? -(int) (-v + 0.5f) : (int) (v + 0.5f);
    }
}
