package dev.shrink4j.prune;

import dev.shrink4j.tensors.kernels.Kernels;
import java.util.stream.IntStream;

/**
 * SparseGPT (docs/methods/pruning.md §3, arXiv:2301.00774): the GPTQ column sweep (docs/methods/rtn-gptq.md §2 steps 6–7) with a mask instead of
 * a quantizer. Given U, the upper Cholesky factor of the damped H⁻¹ (H⁻¹ = UᵀU), each pruned
 * weight's error e = w/U_ii is spread over the later columns of its row, w[i+1:] −= e·U[i, i+1:].
 *
 * <p>Rows are independent given U, so the in-block sweep runs over tiles of rows in parallel, column
 * by column; the rest of the matrix then receives the lazy block update W[:, i₂:] −= E₁·U[i₁:i₂, i₂:]
 * as one GEMM through the {@link Kernels} SPI. The unstructured mask is chosen per column block at the
 * block's start across all rows (one threshold per block).
 */
public final class SparseGpt {
    /** Default column block size bs (docs/methods/pruning.md §3). */
    public static final int BLOCK_SIZE = 128;
    /** Rows per parallel task of the in-block sweep. */
    private static final int TILE_ROWS = 32;

    private SparseGpt() {}

    /**
     * Prunes w in place and applies the OBS updates.
     *
     * @param w (d_out, d_in) row-major; Modified: pruned entries are 0, the others updated
     * @param u (d_in, d_in) row-major, upper triangle read: Cholesky factor of H⁻¹ with H⁻¹ = UᵀU
     * @param p fraction pruned per column block (ignored when pattern is set)
     * @param pattern N:M pattern, or null for unstructured
     * @param blockSize column block size bs (a multiple of M for N:M)
     * @return the mask, (d_out, d_in)
     */
    public static boolean[] prune(float[] w, int dOut, int dIn, float[] u, double p, NmPattern pattern, int blockSize) {
        if (pattern != null) {
            pattern.checkColumns(dIn, "sparsegpt");
            if (blockSize % pattern.m() != 0) {
                throw new IllegalArgumentException("block size " + blockSize + " is not a multiple of " + pattern.m());
            }
        } else {
            SparsityTarget.check(p, "sparsegpt");
        }
        boolean[] mask = new boolean[dOut * dIn];
        float[] psi = pattern == null ? new float[dOut * Math.min(blockSize, dIn)] : null;
        long[] keys = pattern == null ? new long[psi.length] : null;
        boolean[] blockMask = pattern == null ? new boolean[psi.length] : null;
        int tiles = (dOut + TILE_ROWS - 1) / TILE_ROWS;
        for (int i1 = 0; i1 < dIn; i1 += blockSize) {
            int i2 = Math.min(i1 + blockSize, dIn);
            int b = i2 - i1;
            if (pattern == null) {
                // docs/methods/pruning.md §3 step 1: ψ = W₁² / U_ii², the p fraction of the d_out × bs block with lowest ψ
                for (int j = 0; j < dOut; j++) {
                    for (int c = 0; c < b; c++) {
                        float d = u[(i1 + c) * dIn + i1 + c];
                        float v = w[j * dIn + i1 + c];
                        psi[j * b + c] = v * v / (d * d);
                    }
                }
                java.util.Arrays.fill(blockMask, false);
                int n = dOut * b;
                Selection.lowestK(psi, 0, n, (int) SparsityTarget.count(p, n), keys, blockMask, 0);
                for (int j = 0; j < dOut; j++) {
                    System.arraycopy(blockMask, j * b, mask, j * dIn + i1, b);
                }
            }
            final int from = i1;
            float[] negErr = new float[dOut * b]; // (d_out, bs): −E₁
            IntStream.range(0, tiles).parallel().forEach(t -> sweepTile(w, dOut, dIn, u, pattern, mask, from, i2, t, negErr));
            int rest = dIn - i2;
            if (rest > 0) {
                // docs/methods/rtn-gptq.md §2.1 step 7, the lazy batch update as one GEMM: W[:, i₂:] += (−E₁)·U[i₁:i₂, i₂:]
                float[] ut = new float[rest * b]; // (d_in − i₂, bs) = U[i₁:i₂, i₂:]ᵀ
                for (int c = 0; c < b; c++) {
                    int urow = (i1 + c) * dIn + i2;
                    for (int k = 0; k < rest; k++) {
                        ut[k * b + c] = u[urow + k];
                    }
                }
                Kernels.get().gemmABt(dOut, rest, b, negErr, 0, b, ut, 0, b, w, i2, dIn, true);
            }
        }
        return mask;
    }

    /** The in-block sweep for rows [t·TILE, (t+1)·TILE); their errors go to negErr negated. */
    private static void sweepTile(float[] w, int dOut, int dIn, float[] u, NmPattern pattern, boolean[] mask,
                                  int i1, int i2, int tile, float[] negErr) {
        int r0 = tile * TILE_ROWS;
        int r1 = Math.min(r0 + TILE_ROWS, dOut);
        int b = i2 - i1;
        float[] groupScore = pattern == null ? null : new float[pattern.m()];
        for (int j = r0; j < r1; j++) {
            int row = j * dIn;
            for (int c = 0; c < b; c++) {
                int i = i1 + c;
                if (pattern != null && c % pattern.m() == 0) {
                    // docs/methods/pruning.md §3 step 2: N:M from the current (updated) W₁
                    for (int g = 0; g < pattern.m(); g++) {
                        float d = u[(i + g) * dIn + i + g];
                        float v = w[row + i + g];
                        groupScore[g] = v * v / (d * d);
                    }
                    Selection.nm(groupScore, 0, pattern.m(), pattern, mask, row + i);
                }
                if (!mask[row + i]) {
                    continue;
                }
                float e = w[row + i] / u[i * dIn + i];
                w[row + i] = 0f;
                int urow = i * dIn;
                for (int k = i + 1; k < i2; k++) {
                    w[row + k] -= e * u[urow + k];
                }
                negErr[j * b + c] = -e;
            }
        }
    }
}
