package dev.shrink4j.quantize;

import dev.shrink4j.tensors.Parallel;
import dev.shrink4j.tensors.formats.UniformGrid;
import java.util.Arrays;

/**
 * SqueezeLLM's Fisher-weighted non-uniform quantization, docs/methods/squeezellm.md (dense part): per row, a
 * weighted 1-D k-means over the row's sorted values with fp64 prefix sums, initialised at weighted
 * quantiles (deterministic), Lloyd steps until the assignment is stable or 50 iterations.
 */
public final class SqueezeLlm {
    static final int MAX_ITERATIONS = 50;

    private SqueezeLlm() {}

    /**
     * @param w      (d_out, d_in) weight; not modified
     * @param fisher (d_out, d_in) Fisher diagonal Σ_s (Gₛᵀ Xₛ)², or null for equal weights
     */
    public static LutCodes quantize(float[] w, float[] fisher, int dOut, int dIn, int bits) {
        return quantize(w, fisher, dOut, dIn, bits, dIn);
    }

    /**
     * With one codebook per (row, group of {@code groupSize} consecutive input columns): the weighted
     * k-means runs on each such segment of a row on its own.
     */
    public static LutCodes quantize(float[] w, float[] fisher, int dOut, int dIn, int bits, int groupSize) {
        UniformGrid.checkBits(bits);
        if (groupSize < 1) throw new IllegalArgumentException("LUT group size must be positive");
        int gs = Math.min(groupSize, dIn);
        int m = 1 << bits;
        int ng = LutCodes.groups(dIn, gs);
        byte[] codes = new byte[dOut * dIn];
        float[] lut = new float[dOut * ng * m];
        int chunks = Math.min(dOut, 4 * Parallel.threads());
        Parallel.forEach(chunks, chunk -> {
            for (int j = (int) ((long) dOut * chunk / chunks); j < (long) dOut * (chunk + 1) / chunks; j++) {
                for (int g = 0; g < ng; g++) {
                    int i0 = g * gs, n = Math.min(gs, dIn - i0);
                    double[] c = clusterRow(w, fisher, j * dIn + i0, n, m);
                    float[] cb = new float[m];
                    for (int k = 0; k < m; k++) cb[k] = UniformGrid.toF16Signed((float) c[k]);
                    Arrays.sort(cb);
                    System.arraycopy(cb, 0, lut, (j * ng + g) * m, m);
                    // With the codebook fixed, the nearest centroid is the best code whatever the weights.
                    for (int i = i0; i < i0 + n; i++) codes[j * dIn + i] = (byte) nearest(cb, w[j * dIn + i]);
                }
            }
        });
        return new LutCodes(dOut, dIn, bits, gs, codes, lut);
    }

    /** Index of the entry of the ascending array cb nearest to x (the lower one on a tie). */
    static int nearest(float[] cb, float x) {
        int lo = 0, hi = cb.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            // x belongs above mid iff it is past the midpoint of cb[mid], cb[mid+1].
            if (x - cb[mid] > cb[mid + 1] - x) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /**
     * Indices of w[off, off+n) in ascending {@link Float#compare} order, ties by index (what a stable
     * sort gives), via one primitive sort of (order-preserving bits of w, index) pairs packed in longs —
     * sorting boxed indices with a comparator was 6 % of LNQ at 4096².
     */
    static int[] sortedOrder(float[] w, int off, int n) {
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            int bits = Float.floatToIntBits(w[off + i]);
            int sortable = bits ^ ((bits >> 31) & 0x7fffffff); // two's-complement order = Float.compare order
            keys[i] = ((long) sortable << 32) | i;
        }
        Arrays.sort(keys);
        int[] order = new int[n];
        for (int r = 0; r < n; r++) order[r] = (int) keys[r];
        return order;
    }

    /** Sorted centroids of one row: weighted 1-D Lloyd on the sorted values. */
    static double[] clusterRow(float[] w, float[] fisher, int off, int n, int m) {
        int[] order = sortedOrder(w, off, n);
        double[] v = new double[n];
        double[] f = new double[n];
        boolean anyWeight = false;
        for (int r = 0; r < n; r++) {
            v[r] = w[off + order[r]];
            f[r] = fisher == null ? 1 : fisher[off + order[r]];
            anyWeight |= f[r] > 0;
        }
        if (!anyWeight) Arrays.fill(f, 1); // docs/methods/squeezellm.md: all-zero weights → uniform
        double[] s0 = new double[n + 1];
        double[] s1 = new double[n + 1];
        for (int r = 0; r < n; r++) {
            s0[r + 1] = s0[r] + f[r];
            s1[r + 1] = s1[r] + f[r] * v[r];
        }
        // Two deterministic starts, weighted quantiles (docs/methods/squeezellm.md's default) and plain quantiles; Lloyd is
        // a local method and mass quantiles over-crowd heavy regions, so keep the better optimum.
        double[] a = lloyd(v, s0, s1, quantileInit(v, s0, m));
        if (fisher == null || !anyWeight) return a;
        double[] plainMass = new double[n + 1];
        for (int i = 0; i <= n; i++) plainMass[i] = i;
        double[] b = lloyd(v, s0, s1, quantileInit(v, plainMass, m));
        return weightedError(v, f, a) <= weightedError(v, f, b) ? a : b;
    }

    /** Centroid k at the (k + ½)/m quantile of the cumulative mass s0, twins moved apart. */
    private static double[] quantileInit(double[] v, double[] s0, int m) {
        int n = v.length;
        double[] c = new double[m];
        for (int k = 0; k < m; k++) {
            double target = (k + 0.5) / m * s0[n];
            int idx = Arrays.binarySearch(s0, 1, n + 1, target);
            idx = idx >= 0 ? idx - 1 : -idx - 2;
            c[k] = v[Math.clamp(idx, 0, n - 1)];
        }
        // Heavy weights can put several quantiles on one value; such twins would stay empty forever
        // (an empty cluster keeps its centroid), so move each twin to the next distinct value up.
        int r = 0;
        for (int k = 1; k < m; k++) {
            if (c[k] > c[k - 1]) continue;
            while (r < n && v[r] <= c[k - 1]) r++;
            if (r < n) c[k] = v[r];
        }
        return c;
    }

    /** Weighted Lloyd on sorted values with prefix sums s0 = Σf, s1 = Σf·v; returns sorted centroids. */
    private static double[] lloyd(double[] v, double[] s0, double[] s1, double[] c) {
        int n = v.length, m = c.length;
        int[] hi = new int[m];
        int[] prev = new int[m];
        Arrays.fill(prev, -1);
        for (int it = 0; it < MAX_ITERATIONS; it++) {
            Arrays.sort(c);
            for (int k = 0; k < m - 1; k++) hi[k] = upperBound(v, 0.5 * (c[k] + c[k + 1]));
            hi[m - 1] = n;
            if (Arrays.equals(hi, prev)) break;
            int lo = 0;
            for (int k = 0; k < m; k++) {
                double mass = s0[hi[k]] - s0[lo];
                if (mass > 0) c[k] = (s1[hi[k]] - s1[lo]) / mass; // an empty cluster keeps its centroid
                lo = hi[k];
            }
            System.arraycopy(hi, 0, prev, 0, m);
        }
        Arrays.sort(c);
        return c;
    }

    private static double weightedError(double[] v, double[] f, double[] c) {
        double s = 0;
        int k = 0;
        for (int r = 0; r < v.length; r++) {
            while (k + 1 < c.length && v[r] - c[k] > c[k + 1] - v[r]) k++;
            s += f[r] * (v[r] - c[k]) * (v[r] - c[k]);
        }
        return s;
    }

    /** First index r with v[r] > x. */
    private static int upperBound(double[] v, double x) {
        int lo = 0, hi = v.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (v[mid] <= x) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
