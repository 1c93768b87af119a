package dev.shrink4j.quantize;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.LostSilu;
import dev.shrink4j.tensors.formats.LowRank;
import dev.shrink4j.tensors.formats.LowRankColumnSparse;
import dev.shrink4j.tensors.formats.NmQuantized;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;

/**
 * Quantizes a linear that an earlier stage left structured, keeping the structure (docs/recipes.md
 * "What composes"): an N:M-sparse weight keeps its zero pattern and its kept values become codes
 * ({@link NmQuantized}: RTN, or GPTQ with the mask fixed, {@link NmGptq}); low-rank factors (plain or
 * LOST's) are each quantized ({@link LowRank} with {@link UniformQuantized} factors; LOST's sparse
 * columns stay as stored). Uniform methods only (rtn, gptq): a codebook or guided method has no form
 * here, and is refused with the module's name.
 */
final class ComposedQuantizer {
    private ComposedQuantizer() {}

    /** Whether {@code w} is a structure this class keeps (instead of quantizing its dense product). */
    static boolean keepsStructure(CompressedWeight w) {
        return w instanceof NmSparse || w instanceof LowRank || w instanceof LowRankColumnSparse || w instanceof LostSilu;
    }

    /**
     * @param in the linear as the input stores it, (d_out, d_in)
     * @param hs one H (d_in, d_in) of the layer's inputs, or null (data-free RTN)
     */
    static LayerQuantizer.Outcome quantize(QuantizeOptions o, Arena arena, String module, CompressedWeight in, double[][] hs) {
        if (o.method() != QuantMethod.RTN && o.method() != QuantMethod.GPTQ) {
            throw new ShrinkException(module + " is stored as " + in.format() + " by the previous stage; quantize " + o.method().cliName()
                    + " cannot keep that structure: use rtn or gptq");
        }
        double[] h = hs == null ? null : hs[0];
        boolean gptq = o.method() == QuantMethod.GPTQ && h != null;
        return switch (in) {
            case NmSparse ns -> nm(o, arena, ns, h, gptq);
            case LowRank lr -> {
                LowRank q = lowRank(o, arena, lr, h, gptq);
                yield outcome(in, q, hs, gptq ? "factors by GPTQ" : "factors by RTN");
            }
            case LowRankColumnSparse lost -> {
                LowRankColumnSparse q = new LowRankColumnSparse(lowRank(o, arena, lost.lowRank(), h, gptq), lost.cols(),
                        columnValues(o, arena, lost.colValues(), lost.columnIds(), h, gptq));
                yield outcome(in, q, hs, gptq ? "factors and columns by GPTQ" : "factors and columns by RTN");
            }
            case LostSilu silu -> {
                // SiLU between the factors: B's inputs are SiLU(A·x), whose Hessian this pass does not gather, so RTN.
                int[] ids = new LowRankColumnSparse(silu.lowRank(), silu.cols(), silu.colValues()).columnIds();
                LostSilu q = new LostSilu(lowRank(o, arena, silu.lowRank(), null, false), silu.cols(),
                        columnValues(o, arena, silu.colValues(), ids, null, false), silu.gamma());
                yield new LayerQuantizer.Outcome(q, Double.NaN, Double.NaN, "factors and columns by RTN (SiLU layer)");
            }
            default -> throw new IllegalArgumentException(in.format() + " is not a composed structure");
        };
    }

    /** N:M: the kept values in groups of G kept values, the positions unchanged. */
    private static LayerQuantizer.Outcome nm(QuantizeOptions o, Arena arena, NmSparse ns, double[] h, boolean gptq) {
        int dOut = ns.dOut(), dIn = ns.dIn(), kept = ns.keptPerRow();
        float[] vals = new float[dOut * kept];
        int[] pos = new int[dOut * kept];
        float[] v = new float[kept];
        int[] cols = new int[kept];
        for (int j = 0; j < dOut; j++) {
            ns.readRow(j, v, cols);
            System.arraycopy(v, 0, vals, j * kept, kept);
            for (int t = 0; t < kept; t++) pos[j * kept + t] = cols[t] - (t / ns.n()) * ns.m();
        }
        NmQuantized q;
        if (gptq) {
            float[] w = dense(ns);
            GptqOptions g = o.gptq();
            NmGptq.Result r = NmGptq.quantize(w, pos, h, dOut, dIn, ns.n(), ns.m(), o.bits(), o.groupSize(), o.symmetric(), g.blockSize(), g.damp());
            q = NmQuantized.of(arena, dIn, ns.n(), ns.m(), LayerQuantizer.pack(arena, r.values()), pos);
        } else {
            q = NmQuantized.rtn(arena, dOut, dIn, ns.n(), ns.m(), vals, pos, o.bits(), o.groupSize(), o.symmetric());
        }
        return outcome(ns, q, h == null ? null : new double[][] {h},
                (gptq ? "kept values by GPTQ, mask fixed" : "kept values by RTN") + " (groups of " + Math.min(o.groupSize(), kept) + " kept values)");
    }

    /**
     * Each factor of Ŵ = B·A: A (r, d_in) on the layer's inputs' H; B (d_out, r) on Â·H·Âᵀ, the Hessian of
     * its own inputs Â·x (docs/methods/rtn-gptq.md §2 applied to each product in turn), or RTN without H.
     */
    private static LowRank lowRank(QuantizeOptions o, Arena arena, LowRank lr, double[] h, boolean gptq) {
        int r = lr.rank(), dIn = lr.dIn(), dOut = lr.dOut();
        float[] a = dense(lr.a());
        float[] b = dense(lr.b());
        if (!gptq) {
            return new LowRank(UniformQuantized.rtn(arena, a, r, dIn, o.bits(), o.groupSize(), o.symmetric()),
                    UniformQuantized.rtn(arena, b, dOut, r, o.bits(), o.groupSize(), o.symmetric()));
        }
        UniformCodes qa = Gptq.quantize(a, h, r, dIn, o.gptq()).quantized();
        UniformCodes qb = Gptq.quantize(b, sandwich(qa.dequantize(), h, r, dIn), dOut, r, o.gptq()).quantized();
        return new LowRank(LayerQuantizer.pack(arena, qa), LayerQuantizer.pack(arena, qb));
    }

    /** Ŵ widened to F32, (d_out·d_in) row-major. */
    private static float[] dense(CompressedWeight w) {
        float[] d = new float[w.dOut() * w.dIn()];
        for (int j = 0; j < w.dOut(); j++) w.dequantizeRow(j, d, j * w.dIn());
        return d;
    }

    /**
     * LOST's kept columns S (d_out, c): their inputs are x_I, so GPTQ runs on H[I][:, I] (c, c); RTN without H.
     */
    private static UniformQuantized columnValues(QuantizeOptions o, Arena arena, CompressedWeight values, int[] ids, double[] h, boolean gptq) {
        int dOut = values.dOut(), c = values.dIn();
        float[] v = dense(values);
        if (!gptq) return UniformQuantized.rtn(arena, v, dOut, c, o.bits(), o.groupSize(), o.symmetric());
        int dIn = (int) Math.round(Math.sqrt(h.length));
        double[] hi = new double[c * c];
        for (int a = 0; a < c; a++) {
            for (int b = 0; b < c; b++) hi[a * c + b] = h[ids[a] * dIn + ids[b]];
        }
        return LayerQuantizer.pack(arena, Gptq.quantize(v, hi, dOut, c, o.gptq()).quantized());
    }

    /** Â·H·Âᵀ, (r, r), for Â (r, d_in) and H (d_in, d_in). */
    static double[] sandwich(float[] a, double[] h, int r, int dIn) {
        double[] ah = new double[r * dIn]; // (r, d_in)
        for (int p = 0; p < r; p++) {
            for (int i = 0; i < dIn; i++) {
                double api = a[p * dIn + i];
                if (api == 0) continue;
                for (int k = 0; k < dIn; k++) ah[p * dIn + k] += api * h[i * dIn + k];
            }
        }
        double[] out = new double[r * r];
        for (int p = 0; p < r; p++) {
            for (int q = 0; q <= p; q++) {
                double s = 0;
                for (int k = 0; k < dIn; k++) s += ah[p * dIn + k] * a[q * dIn + k];
                out[p * r + q] = s;
                out[q * r + p] = s;
            }
        }
        return out;
    }

    /** The layer objective of the input (dense product) against the quantized form, on H. */
    private static LayerQuantizer.Outcome outcome(CompressedWeight in, CompressedWeight q, double[][] hs, String note) {
        if (hs == null) return new LayerQuantizer.Outcome(q, Double.NaN, Double.NaN, note);
        double e = LayerQuantizer.objective(dense(in), dense(q), hs, in.dOut(), in.dIn());
        return new LayerQuantizer.Outcome(q, e, e, note);
    }
}
