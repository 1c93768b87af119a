package dev.shrink4j.quantize;

import dev.shrink4j.tensors.ShrinkException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * ReQuant's settings (docs/methods/pqi-requant.md §7). Defaults are the published SqueezeLLM setting,
 * r_o = 0.45 %, r_s = 0.05 %, β = r_s/2 (two detach steps); shrink4j uses the same for its other bases
 * (RTN, GPTQ, LNQ, GuidedQuant: an extension, not a published setting). PQI uses N = 8 left end points
 * (docs/methods/pqi-requant.md §2's CPU default; the paper's N = 32).
 *
 * @param base         the base quantizer and its options (docs/methods/pqi-requant.md §3 step 1)
 * @param outlierRatio r_o, a fraction of all decoder-linear weights, in [0, 0.5)
 * @param significantRatio r_s, in [0, 0.5)
 * @param step         β, the share detached per step (0 < β ≤ r_s; ignored when r_s = 0)
 * @param adaptive     docs/methods/pqi-requant.md §4's self-adaptive allocation; false: every layer gets r_o
 * @param pqiPoints    N of the PQI recomputed at every detach step
 * @param scratchDir   where the weight-shaped F32 buffers (the Fisher of §4, the PQI accumulators of §5) are
 *                     memory-mapped, in files deleted at the end; null: anonymous off-heap memory (RssAnon)
 */
public record ReQuantOptions(QuantizeOptions base, double outlierRatio, double significantRatio, double step, boolean adaptive, int pqiPoints,
                             Path scratchDir) {
    public static final double DEFAULT_OUTLIER_RATIO = 0.0045;
    public static final double DEFAULT_SIGNIFICANT_RATIO = 0.0005;
    public static final int DEFAULT_PQI_POINTS = 8;

    public ReQuantOptions {
        check("outlier ratio", outlierRatio);
        check("significant ratio", significantRatio);
        if (significantRatio > 0 && !(step > 0 && step <= significantRatio)) {
            throw new ShrinkException(String.format(Locale.ROOT, "ReQuant step β = %s must be in (0, r_s = %s]", step, significantRatio));
        }
        if (pqiPoints < 1) throw new ShrinkException("ReQuant needs at least one PQI point, got " + pqiPoints);
    }

    private static void check(String what, double r) {
        if (!(r >= 0 && r < 0.5)) throw new ShrinkException("ReQuant " + what + " " + r + " is outside [0, 0.5)");
    }

    public static ReQuantOptions defaults(QuantizeOptions base) {
        return new ReQuantOptions(base, DEFAULT_OUTLIER_RATIO, DEFAULT_SIGNIFICANT_RATIO, DEFAULT_SIGNIFICANT_RATIO / 2, true, DEFAULT_PQI_POINTS, null);
    }

    /** r_o and r_s; β becomes r_s/2. */
    public ReQuantOptions withRatios(double outliers, double significant) {
        return new ReQuantOptions(base, outliers, significant, significant / 2, adaptive, pqiPoints, scratchDir);
    }

    public ReQuantOptions withAdaptive(boolean a) {
        return new ReQuantOptions(base, outlierRatio, significantRatio, step, a, pqiPoints, scratchDir);
    }

    public ReQuantOptions withPqiPoints(int n) {
        return new ReQuantOptions(base, outlierRatio, significantRatio, step, adaptive, n, scratchDir);
    }

    public ReQuantOptions withScratchDir(Path dir) {
        return new ReQuantOptions(base, outlierRatio, significantRatio, step, adaptive, pqiPoints, dir);
    }

    /** ⌈r_s/β⌉ (docs/methods/pqi-requant.md §5). */
    public int detachSteps() {
        return significantRatio == 0 ? 0 : (int) Math.ceil(significantRatio / step - 1e-9);
    }
}
