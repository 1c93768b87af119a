package dev.shrink4j.quantize;

import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.LutQuantized;
import dev.shrink4j.tensors.formats.UniformQuantized;
import dev.shrink4j.tensors.kernels.Kernels;
import java.lang.foreign.Arena;

/**
 * One linear, one method: runs the algorithm core on the F32 weight with the layer's statistics and
 * packs the result into the formats' compressed weight (tensors allocated in the caller's arena).
 */
final class LayerQuantizer {
    /**
     * A compressed weight and the layer objective Σ_j e_jᵀ H e_j (guided: Σ_k over H̄_k) of the
     * method's starting point (RTN for uniform methods, SqueezeLLM for LUT methods) and of the result.
     */
    record Outcome(CompressedWeight weight, double objectiveInit, double objectiveAfter, String note) {}

    private LayerQuantizer() {}

    /**
     * @param w      (d_out, d_in)
     * @param hs     one H (d_in, d_in), or g guided H̄_k; null for data-free RTN (objectives NaN)
     * @param fisher (d_out, d_in) or null
     */
    static Outcome quantize(QuantizeOptions o, Arena arena, float[] w, int dOut, int dIn, double[][] hs, float[] fisher) {
        int bits = o.bits();
        return switch (o.method()) {
            case RTN -> {
                UniformCodes q = Rtn.quantize(w, dOut, dIn, bits, o.groupSize(), o.symmetric());
                // data-free: no H, no objective, and no dequantized copy to measure it with
                double e = hs == null ? Double.NaN : objective(w, q.dequantize(), hs, dOut, dIn);
                yield new Outcome(pack(arena, q), e, e, "");
            }
            case GPTQ, GUIDED_GPTQ -> {
                double rtn = objective(w, Rtn.quantize(w, dOut, dIn, bits, o.groupSize(), o.symmetric()).dequantize(), hs, dOut, dIn);
                GuidedQuant.UniformResult r = GuidedQuant.gptq(w, hs, dOut, dIn, o.gptq());
                String note = r.deadColumns() > 0 ? r.deadColumns() + " dead columns" : "";
                if (r.maxDamp() > 0.01 + 1e-12) note += (note.isEmpty() ? "" : "; ") + "damping " + r.maxDamp();
                yield new Outcome(pack(arena, r.quantized()), rtn, objective(w, r.quantized().dequantize(), hs, dOut, dIn), note);
            }
            case SQUEEZELLM -> {
                LutCodes q = SqueezeLlm.quantize(w, fisher, dOut, dIn, bits, o.lutGroupFor(dIn));
                double e = objective(w, q.dequantize(), hs, dOut, dIn);
                yield new Outcome(pack(arena, q), e, e, "");
            }
            case LNQ, GUIDEDQUANT -> {
                GuidedQuant.LutResult r = GuidedQuant.lnq(w, hs, fisher, dOut, dIn, o.lnq(), o.lutGroupFor(dIn));
                String note = r.fallbacks() > 0 ? r.fallbacks() + " groups kept SqueezeLLM (H not PD)" : "";
                yield new Outcome(pack(arena, r.quantized()), r.fBefore(), objective(w, r.quantized().dequantize(), hs, dOut, dIn), note);
            }
        };
    }

    static UniformQuantized pack(Arena arena, UniformCodes q) {
        return UniformQuantized.ofCodes(arena, q.dOut(), q.dIn(), q.bits(), q.groupSize(), q.codes(), q.scales(),
                q.symmetric() ? null : q.zeros(), q.gIdx());
    }

    static LutQuantized pack(Arena arena, LutCodes q) {
        int n = q.dOut() * q.dIn();
        int[] codes = new int[n];
        for (int i = 0; i < n; i++) codes[i] = q.codes()[i] & 0xFF;
        return LutQuantized.of(arena, q.dOut(), q.dIn(), q.bits(), q.groupSize(), codes, q.lut());
    }

    /** Rows of H widened to F32 per GEMM in {@link #objective}: 256 × d_in floats instead of a d_in² copy. */
    private static final int H_ROWS_PER_SLICE = 256;

    /** Σ_k Σ_{j∈J_k} (w_j − ŵ_j)ᵀ H_k (w_j − ŵ_j) with E·H as GEMMs per group. */
    static double objective(float[] w, float[] wHat, double[][] hs, int dOut, int dIn) {
        if (hs == null) return Double.NaN; // data-free RTN: no H to measure with
        int rows = dOut / hs.length;
        Kernels k = Kernels.get();
        double total = 0;
        float[] e = new float[rows * dIn];
        float[] eh = new float[rows * dIn];
        // H is widened slice by slice: a whole F32 copy of a Llama-2-7B down_proj Hessian (11008²) is 485 MB
        // on top of H itself, the largest transient of a 7B-shaped GPTQ run. Each output of E·H is still one
        // dot product over all of d_in, so the value does not depend on the slicing.
        float[] hf = new float[Math.min(H_ROWS_PER_SLICE, dIn) * dIn];
        for (int g = 0; g < hs.length; g++) {
            for (int i = 0; i < rows * dIn; i++) e[i] = wHat[g * rows * dIn + i] - w[g * rows * dIn + i];
            double[] h = hs[g];
            for (int c0 = 0; c0 < dIn; c0 += H_ROWS_PER_SLICE) {
                int n = Math.min(H_ROWS_PER_SLICE, dIn - c0);
                for (int i = 0; i < n * dIn; i++) hf[i] = (float) h[c0 * dIn + i];
                k.gemmABt(rows, n, dIn, e, 0, dIn, hf, 0, dIn, eh, c0, dIn, false); // E·H[c0:c0+n]ᵀ (H symmetric)
            }
            double s = 0;
            for (int i = 0; i < rows * dIn; i++) s += (double) e[i] * eh[i];
            total += s;
        }
        return total;
    }

    static void checkFinite(String name, float[] w) {
        for (int i = 0; i < w.length; i++) {
            if (!Float.isFinite(w[i])) {
                throw new dev.shrink4j.tensors.ShrinkException("tensor " + name + " holds a non-finite value (" + w[i]
                        + " at flat index " + i + "); refusing to quantize it");
            }
        }
    }
}
