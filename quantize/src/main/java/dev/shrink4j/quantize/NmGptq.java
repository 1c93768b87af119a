package dev.shrink4j.quantize;

import dev.shrink4j.tensors.formats.UniformGrid;
import dev.shrink4j.tensors.kernels.Kernels;
import dev.shrink4j.tensors.linalg.Damping;

/**
 * GPTQ over an N:M-sparse weight with its zero pattern fixed: SparseGPT's joint sweep with the mask given
 * (docs/methods/pruning.md §3, docs/methods/rtn-gptq.md §2): columns in order, each kept weight rounded to
 * its group's grid, each pruned weight set to 0, and both errors fed back into the later columns through the
 * inverse Hessian factor U, lazily in blocks of bs as {@link Gptq}. So a pruned weight that the feedback made
 * non-zero is pruned again at its column, and its error is compensated like a rounding error.
 *
 * <p>Groups run along the kept values (G kept values of a row, G a multiple of N), which is G·M/N input
 * columns for every row: a group's grid is fitted, per row, from its kept entries of the updated columns
 * when the sweep reaches the group (non-static groups, as GPTQ without act-order). No act-order: the
 * N:M layout is in column order.
 */
final class NmGptq {
    /** Kept values (d_out, d_in·N/M) as codes, their groups' scales and zeros, and the positions inside runs. */
    record Result(UniformCodes values, int[] positions, double damp, int deadColumns) {}

    private NmGptq() {}

    /**
     * @param w         (d_out, d_in), N:M sparse (pruned entries 0, as {@code NmSparse.compact} reads it); not modified
     * @param positions (d_out·d_in·N/M) each kept value's position inside its run of M
     * @param h         (d_in, d_in) proxy Hessian of the layer's inputs; not modified
     * @param groupSize G in kept values, a multiple of N (≥ kept per row: one group per row)
     */
    static Result quantize(float[] w, int[] positions, double[] h, int dOut, int dIn, int n, int m, int bits, int groupSize,
                           boolean symmetric, int blockSize, double damp) {
        int kept = dIn / m * n;
        int gk = Math.min(groupSize, kept);
        if (gk % n != 0 && gk != kept) throw new IllegalArgumentException("group size " + groupSize + " is not a multiple of N = " + n);
        int gd = gk == kept ? dIn : gk / n * m; // the group's span in input columns
        int ng = UniformCodes.groups(kept, gk);
        int maxq = UniformGrid.maxq(bits);
        boolean[] mask = new boolean[dOut * dIn]; // (d_out, d_in) kept
        for (int j = 0; j < dOut; j++) {
            for (int t = 0; t < kept; t++) mask[j * dIn + (t / n) * m + positions[j * kept + t]] = true;
        }
        boolean[] dead = new boolean[dIn];
        int deadCount = 0;
        for (int i = 0; i < dIn; i++) {
            if (h[i * dIn + i] == 0) {
                dead[i] = true;
                deadCount++;
            }
        }
        float[] wt = new float[dIn * dOut]; // (d_in, d_out)
        for (int i = 0; i < dIn; i++) {
            for (int j = 0; j < dOut; j++) wt[i * dOut + j] = dead[i] ? 0f : w[j * dIn + i];
        }
        Damping.Result f = Damping.factorInto(new double[dIn * dIn], work -> {
            System.arraycopy(h, 0, work, 0, dIn * dIn);
            for (int i = 0; i < dIn; i++) if (dead[i]) work[i * dIn + i] = 1;
        }, dIn, Damping.Factor.INVERSE_UPPER, Damping.Policy.GPTQ.withInitialDelta(damp), Damping.Listener.LOG);
        float[] u = Gptq.toFloat(f.factor());
        double delta = f.delta();
        f = null;

        float[] scales = new float[dOut * ng];
        byte[] zeros = new byte[dOut * ng];
        byte[] qt = new byte[dIn * dOut];
        float[] sz = new float[2];
        float[] e1 = new float[blockSize * dOut]; // (bs, d_out) −(w − ŵ)/U_ii of the block
        Kernels kernels = Kernels.get();
        for (int i1 = 0; i1 < dIn; i1 += blockSize) {
            int i2 = Math.min(dIn, i1 + blockSize);
            for (int p = i1; p < i2; p++) {
                int g = p / gd;
                if (p % gd == 0) {
                    int to = Math.min(dIn, p + gd);
                    for (int j = 0; j < dOut; j++) {
                        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
                        for (int k = p; k < to; k++) {
                            if (!mask[j * dIn + k]) continue;
                            min = Math.min(min, wt[k * dOut + j]);
                            max = Math.max(max, wt[k * dOut + j]);
                        }
                        if (min > max) min = max = 0; // no kept value (cannot happen for a well-formed N:M row)
                        UniformGrid.fit(min, max, bits, symmetric, sz);
                        scales[j * ng + g] = sz[0];
                        zeros[j * ng + g] = (byte) sz[1];
                    }
                }
                float uii = u[p * dIn + p];
                int c = p - i1;
                for (int j = 0; j < dOut; j++) {
                    float v = wt[p * dOut + j];
                    float hat = 0;
                    if (mask[j * dIn + p]) {
                        float s = scales[j * ng + g], z = zeros[j * ng + g] & 0xFF;
                        int q = UniformGrid.code(v, s, z, maxq);
                        qt[p * dOut + j] = (byte) q;
                        hat = UniformGrid.dequant(q, s, z);
                    }
                    e1[c * dOut + j] = (hat - v) / uii;
                }
                for (int k = p + 1; k < i2; k++) kernels.axpy(dOut, u[p * dIn + k], e1, c * dOut, wt, k * dOut);
            }
            if (i2 < dIn) kernels.gemmAtB(dIn - i2, dOut, i2 - i1, u, i1 * dIn + i2, dIn, e1, 0, dOut, wt, i2 * dOut, dOut, true);
        }
        byte[] codes = new byte[dOut * kept];
        for (int j = 0; j < dOut; j++) {
            for (int t = 0; t < kept; t++) codes[j * kept + t] = qt[((t / n) * m + positions[j * kept + t]) * dOut + j];
        }
        return new Result(new UniformCodes(dOut, kept, bits, gk, symmetric, codes, scales, zeros, null), positions, delta, deadCount);
    }
}
