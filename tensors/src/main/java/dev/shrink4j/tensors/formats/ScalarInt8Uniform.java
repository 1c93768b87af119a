package dev.shrink4j.tensors.formats;

/**
 * The scalar spec of uniform weights times int8 activations: per output j and activation block b
 * (whose 32 columns lie in one weight group g),
 * <pre>
 *   y_j = Σ_b s[j, g(b)] · d_b · Σ_{i∈b} (q[j, i] − z[j, g(b)]) · a_i
 * </pre>
 * with the inner sum exact in integers (codes q, zero points z, int8 activation codes a, scales d_b
 * of {@link Int8Activations}) and the outer sum in float, block by block.
 */
public final class ScalarInt8Uniform {
    private ScalarInt8Uniform() {}

    /** y[yo + j] = row {@code r} of x̂ times Ŵ, for every j; Ŵ as {@link ActivationPrecision#int8Supported}. */
    public static void matvec(UniformQuantized w, Int8Activations x, int r, float[] y, int yo) {
        check(w, x);
        int n = w.dIn(), nb = x.blocksPerRow(), ng = w.nGroups();
        int[] q = new int[n];
        float[] s = new float[ng];
        int[] z = new int[ng];
        for (int j = 0; j < w.dOut(); j++) {
            BitPacking.unpackRow(w.qweight().segment(), j * w.rowBytes(), n, w.bits(), q);
            w.readScales(j, s);
            w.readZeros(j, z);
            float sum = 0;
            for (int b = 0; b < nb; b++) {
                int i0 = b * Int8Activations.BLOCK, i1 = Math.min(n, i0 + Int8Activations.BLOCK);
                int g = w.group(i0);
                int dot = 0;
                for (int i = i0; i < i1; i++) dot += (q[i] - z[g]) * x.q()[r * n + i];
                sum += s[g] * x.scales()[r * nb + b] * dot;
            }
            y[yo + j] = sum;
        }
    }

    /** Throws when {@code w} cannot take int8 activations or x̂ has the wrong width. */
    public static void check(UniformQuantized w, Int8Activations x) {
        if (!ActivationPrecision.int8Supported(w)) {
            throw new IllegalArgumentException("int8 activations need 4- or 8-bit uniform weights with groups of whole 32-blocks, got "
                    + w.bits() + "-bit group " + w.groupSize() + (w.gIdx() != null ? " act-order" : ""));
        }
        if (x.cols() != w.dIn()) {
            throw new IllegalArgumentException("activations have " + x.cols() + " columns, weight has d_in " + w.dIn());
        }
    }
}
