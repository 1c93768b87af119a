package dev.shrink4j.quantize;

import dev.shrink4j.tensors.formats.UniformGrid;
import dev.shrink4j.tensors.kernels.Kernels;
import dev.shrink4j.tensors.linalg.Damping;
import java.util.Arrays;

/**
 * GPTQ, docs/methods/rtn-gptq.md §2: optimal-brain quantization one input column at a time with a fixed inverse
 * Hessian factor U, error fed back into the later columns, lazily in column blocks of bs.
 *
 * <p>The matrix is held transposed, (d_in, d_out), so that one input column of W, the unit of GPTQ's
 * loop, is one contiguous row: the in-block feedback is an axpy per later column and the lazy update
 * one GEMM, W[i₂:, :] −= U[i₁:i₂, i₂:]ᵀ·E₁.
 */
public final class Gptq {
    /** What happened besides the codes, for the report. */
    public record Result(UniformCodes quantized, double damp, int dampRetries, int deadColumns) {}

    private Gptq() {}

    /**
     * @param w (d_out, d_in) weight; not modified
     * @param h (d_in, d_in) symmetric proxy Hessian XᵀX/n (or a guided H̄ₖ, docs/methods/guidedquant-lnq.md §4); not modified
     */
    public static Result quantize(float[] w, double[] h, int dOut, int dIn, GptqOptions o) {
        int bits = o.bits();
        int maxq = UniformGrid.maxq(bits);
        int gs = Math.min(o.groupSize(), dIn);
        boolean grouped = gs < dIn;
        int ng = UniformCodes.groups(dIn, gs);

        // docs/methods/pipeline.md §3 dead columns: H_ii = 0 → H_ii = 1 and (by default) W[:, i] = 0.
        boolean[] dead = new boolean[dIn];
        int deadCount = 0;
        for (int i = 0; i < dIn; i++) {
            if (h[i * dIn + i] == 0) {
                dead[i] = true;
                deadCount++;
            }
        }
        // Step 2: act-order permutation by decreasing diag H (stable, so ties keep column order).
        int[] perm = identity(dIn);
        if (o.actOrder()) {
            double[] diag = new double[dIn];
            for (int i = 0; i < dIn; i++) diag[i] = dead[i] ? 1 : h[i * dIn + i];
            perm = Arrays.stream(perm).boxed().sorted((a, b) -> Double.compare(diag[b], diag[a]))
                    .mapToInt(Integer::intValue).toArray();
        }
        float[] wt = new float[dIn * dOut]; // (d_in, d_out), permuted columns of W
        for (int p = 0; p < dIn; p++) {
            int col = perm[p];
            boolean zero = dead[col] && !o.keepDeadColumns();
            for (int j = 0; j < dOut; j++) {
                wt[p * dOut + j] = zero ? 0f : w[j * dIn + col];
            }
        }
        float[] scales = new float[dOut * ng];
        byte[] zeros = new byte[dOut * ng];
        boolean staticGroups = grouped && o.staticGroups();
        // Step 3: static groups from the original W in original column order (dead columns zeroed).
        if (staticGroups || !grouped) {
            fitGroups(wt, perm, dOut, dIn, gs, bits, o.symmetric(), scales, zeros);
        }
        // Step 4 with docs/methods/pipeline.md §3's retry: U, upper, H⁻¹ = UᵀU of the damped H[perm][:, perm] (dead diagonal 1),
        // factored in the one n² copy of H this method makes (refilled on a retry).
        int[] order = perm;
        Damping.Result f = Damping.factorInto(new double[dIn * dIn], work -> {
            permuteInto(h, order, dIn, work);
            for (int p = 0; p < dIn; p++) {
                if (dead[order[p]]) work[p * dIn + p] = 1;
            }
        }, dIn, Damping.Factor.INVERSE_UPPER, Damping.Policy.GPTQ.withInitialDelta(o.damp()), Damping.Listener.LOG);
        float[] u = toFloat(f.factor());
        double delta = f.delta();
        int retries = f.retries();
        f = null; // the fp64 factor may go before the sweep (it is as large as H)

        byte[] qt = new byte[dIn * dOut];
        int[] gIdx = grouped && !staticGroups && o.actOrder() ? new int[dIn] : null;
        float[] rowScale = new float[dOut];
        float[] rowZero = new float[dOut];
        float[] sz = new float[2];
        int bs = o.blockSize();
        float[] e1 = new float[bs * dOut]; // (bs, d_out) negated scaled errors −(w − q)/U_ii of the block
        Kernels kernels = Kernels.get();
        for (int i1 = 0; i1 < dIn; i1 += bs) {
            int i2 = Math.min(dIn, i1 + bs);
            for (int p = i1; p < i2; p++) {
                int groupId = grouped && !staticGroups ? p / gs : perm[p] / gs;
                if (grouped && !staticGroups && p % gs == 0) {
                    // Non-static groups: parameters from the current (updated) columns p..p+G_q−1.
                    int to = Math.min(dIn, p + gs);
                    for (int j = 0; j < dOut; j++) {
                        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
                        for (int k = p; k < to; k++) {
                            float v = wt[k * dOut + j];
                            min = Math.min(min, v);
                            max = Math.max(max, v);
                        }
                        UniformGrid.fit(min, max, bits, o.symmetric(), sz);
                        scales[j * ng + groupId] = sz[0];
                        zeros[j * ng + groupId] = (byte) sz[1];
                    }
                }
                if (gIdx != null) gIdx[perm[p]] = groupId;
                for (int j = 0; j < dOut; j++) {
                    rowScale[j] = scales[j * ng + groupId];
                    rowZero[j] = zeros[j * ng + groupId] & 0xFF;
                }
                float uii = u[p * dIn + p];
                int c = p - i1;
                for (int j = 0; j < dOut; j++) {
                    float v = wt[p * dOut + j];
                    int q = UniformGrid.code(v, rowScale[j], rowZero[j], maxq);
                    qt[p * dOut + j] = (byte) q;
                    e1[c * dOut + j] = (UniformGrid.dequant(q, rowScale[j], rowZero[j]) - v) / uii;
                }
                // In-block feedback: W₁[:, c+1:] −= e ⊗ U[i, i+1:i₂].
                for (int k = p + 1; k < i2; k++) {
                    kernels.axpy(dOut, u[p * dIn + k], e1, c * dOut, wt, k * dOut);
                }
            }
            // Step 7, lazy batch update: W[:, i₂:] −= E₁·U[i₁:i₂, i₂:] (transposed: rows i₂.. of wt).
            if (i2 < dIn) {
                kernels.gemmAtB(dIn - i2, dOut, i2 - i1, u, i1 * dIn + i2, dIn, e1, 0, dOut, wt, i2 * dOut, dOut, true);
            }
        }
        // Step 8: un-permute and transpose back to (d_out, d_in).
        byte[] codes = new byte[dOut * dIn];
        for (int p = 0; p < dIn; p++) {
            int col = perm[p];
            for (int j = 0; j < dOut; j++) {
                codes[j * dIn + col] = qt[p * dOut + j];
            }
        }
        int groupSize = grouped ? gs : dIn;
        UniformCodes q = new UniformCodes(dOut, dIn, bits, groupSize, o.symmetric(), codes, scales, zeros, gIdx);
        return new Result(q, delta, retries, deadCount);
    }

    /** Per-row parameters of the contiguous groups of the original column order (or of the whole row). */
    private static void fitGroups(float[] wt, int[] perm, int dOut, int dIn, int gs, int bits, boolean sym,
                                  float[] scales, byte[] zeros) {
        int ng = UniformCodes.groups(dIn, gs);
        int[] pos = new int[dIn]; // original column → permuted row of wt
        for (int p = 0; p < dIn; p++) pos[perm[p]] = p;
        float[] min = new float[dOut * ng];
        float[] max = new float[dOut * ng];
        Arrays.fill(min, Float.POSITIVE_INFINITY);
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        for (int col = 0; col < dIn; col++) {
            int g = col / gs;
            int base = pos[col] * dOut;
            for (int j = 0; j < dOut; j++) {
                float v = wt[base + j];
                min[j * ng + g] = Math.min(min[j * ng + g], v);
                max[j * ng + g] = Math.max(max[j * ng + g], v);
            }
        }
        float[] sz = new float[2];
        for (int k = 0; k < dOut * ng; k++) {
            UniformGrid.fit(min[k], max[k], bits, sym, sz);
            scales[k] = sz[0];
            zeros[k] = (byte) sz[1];
        }
    }

    static int[] identity(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        return p;
    }

    /** H[perm][:, perm]. */
    static double[] permute(double[] h, int[] perm, int n) {
        double[] r = new double[n * n];
        permuteInto(h, perm, n, r);
        return r;
    }

    /** r = H[perm][:, perm]. */
    static void permuteInto(double[] h, int[] perm, int n, double[] r) {
        for (int a = 0; a < n; a++) {
            int ra = perm[a] * n;
            for (int b = 0; b < n; b++) {
                r[a * n + b] = h[ra + perm[b]];
            }
        }
    }

    static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }
}
