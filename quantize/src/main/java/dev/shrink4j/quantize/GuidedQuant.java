package dev.shrink4j.quantize;

import java.util.Arrays;

/**
 * GuidedQuant, docs/methods/guidedquant-lnq.md §4: the base quantizer runs on each contiguous group of output channels
 * J_k with that group's guided Hessian H̄_k in place of XᵀX. Guided LNQ is the paper's flagship
 * ({@code guidedquant}); guided GPTQ ({@code guided-gptq}) drives GPTQ with the same H̄_k.
 */
public final class GuidedQuant {
    /** The assembled result and the summed layer objective before/after over the groups. */
    public record LutResult(LutCodes quantized, double fBefore, double fAfter, int fallbacks) {}

    public record UniformResult(UniformCodes quantized, double maxDamp, int deadColumns) {}

    private GuidedQuant() {}

    /**
     * Guided LNQ.
     *
     * @param w       (d_out, d_in)
     * @param hBar    g matrices (d_in, d_in), one per group of d_out/g rows
     * @param fisher  (d_out, d_in) SqueezeLLM Fisher diagonal for the init, or null
     */
    public static LutResult lnq(float[] w, double[][] hBar, float[] fisher, int dOut, int dIn, LnqOptions o) {
        return lnq(w, hBar, fisher, dOut, dIn, o, dIn);
    }

    /** Guided LNQ with one codebook per (row, group of {@code lutGroup} input columns). */
    public static LutResult lnq(float[] w, double[][] hBar, float[] fisher, int dOut, int dIn, LnqOptions o, int lutGroup) {
        int g = hBar.length;
        int rows = dOut / g;
        int gs = Math.min(lutGroup, dIn);
        int m = (1 << o.bits()) * LutCodes.groups(dIn, gs); // codebook entries per row
        byte[] codes = new byte[dOut * dIn];
        float[] lut = new float[dOut * m];
        double before = 0, after = 0;
        int fallbacks = 0;
        for (int k = 0; k < g; k++) {
            // Gptq.quantize only reads W: with one group (plain GPTQ) it reads the caller's array, not a copy.
            float[] wk = g == 1 ? w : Arrays.copyOfRange(w, k * rows * dIn, (k + 1) * rows * dIn);
            float[] fk = fisher == null ? null : Arrays.copyOfRange(fisher, k * rows * dIn, (k + 1) * rows * dIn);
            LutCodes init = SqueezeLlm.quantize(wk, fk, rows, dIn, o.bits(), gs);
            Lnq.Result r = Lnq.quantize(wk, hBar[k], rows, dIn, init, o);
            System.arraycopy(r.quantized().codes(), 0, codes, k * rows * dIn, rows * dIn);
            System.arraycopy(r.quantized().lut(), 0, lut, k * rows * m, rows * m);
            before += r.fBefore();
            after += r.fAfter();
            if (r.fellBack()) fallbacks++;
        }
        return new LutResult(new LutCodes(dOut, dIn, o.bits(), gs, codes, lut), before, after, fallbacks);
    }

    /**
     * Guided GPTQ. Groups of rows get different act-order permutations, so the column groups must be
     * static (contiguous in the original order) to share one layout; non-static act-order is refused.
     */
    public static UniformResult gptq(float[] w, double[][] hBar, int dOut, int dIn, GptqOptions o) {
        if (o.actOrder() && !o.staticGroups() && o.groupSize() < dIn) {
            throw new IllegalArgumentException("guided GPTQ needs static groups with act-order");
        }
        int g = hBar.length;
        int rows = dOut / g;
        int gs = Math.min(o.groupSize(), dIn);
        int ng = UniformCodes.groups(dIn, gs);
        byte[] codes = new byte[dOut * dIn];
        float[] scales = new float[dOut * ng];
        byte[] zeros = new byte[dOut * ng];
        double maxDamp = 0;
        int dead = 0;
        for (int k = 0; k < g; k++) {
            // Gptq.quantize only reads W: with one group (plain GPTQ) it reads the caller's array, not a copy.
            float[] wk = g == 1 ? w : Arrays.copyOfRange(w, k * rows * dIn, (k + 1) * rows * dIn);
            Gptq.Result r = Gptq.quantize(wk, hBar[k], rows, dIn, o);
            UniformCodes q = r.quantized();
            System.arraycopy(q.codes(), 0, codes, k * rows * dIn, rows * dIn);
            System.arraycopy(q.scales(), 0, scales, k * rows * ng, rows * ng);
            System.arraycopy(q.zeros(), 0, zeros, k * rows * ng, rows * ng);
            maxDamp = Math.max(maxDamp, r.damp());
            dead += r.deadColumns();
        }
        UniformCodes q = new UniformCodes(dOut, dIn, o.bits(), gs, o.symmetric(), codes, scales, zeros, null);
        return new UniformResult(q, maxDamp, dead);
    }
}
