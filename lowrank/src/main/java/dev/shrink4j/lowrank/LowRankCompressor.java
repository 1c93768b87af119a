package dev.shrink4j.lowrank;

import dev.shrink4j.tensors.ShrinkException;

/**
 * Compresses one linear at a parameter ratio with one {@link LowRankMethod}: the rank comes from the
 * docs/methods/lowrank-lost.md §5 budget, the factorization from the method's class, and the result carries the per-layer
 * error figures the report prints.
 */
public final class LowRankCompressor {
    /**
     * @param method      the factorization
     * @param paramsRatio P in (0, 1]: stored values ≤ ⌊P·d_in·d_out⌋ per matrix
     * @param lost        LOST options (ρ, selection, values); ignored by the SVD methods
     * @param damp        docs/methods/pipeline.md §3 relative damping for the whitened variants
     * @param alpha       docs/methods/lowrank-lost.md §3 ASVD exponent
     */
    public record Settings(LowRankMethod method, double paramsRatio, Lost.Options lost, double damp, double alpha) {
        public Settings {
            Budgets.checkRatio(paramsRatio);
        }

        public static Settings defaults(LowRankMethod method, double paramsRatio) {
            return new Settings(method, paramsRatio, Lost.Options.compression(), WhitenedSvd.DEFAULT_DAMP, ActivationScaledSvd.DEFAULT_ALPHA);
        }
    }

    /**
     * One compressed linear.
     *
     * @param lowRank      the factors (the whole result for the SVD methods)
     * @param lost         the LOST decomposition, or null for the SVD methods
     * @param merged       Ŵ (dOut, dIn), the function the compressed layer computes
     * @param params       stored values (docs/methods/lowrank-lost.md §5; ids not counted)
     * @param weightError  ‖Ŵ − W‖²_F / ‖W‖²_F
     * @param outputError  ‖X(Ŵ − W)ᵀ‖²_F / ‖XWᵀ‖²_F, NaN without H
     * @param damping      the relative damping the Cholesky needed, NaN when none was factorized
     */
    public record Result(LowRankFactors lowRank, LostDecomposition lost, float[] merged, long params, double weightError,
                         double outputError, double damping) {}

    private final Settings settings;
    private final SvdSolver svd;

    public LowRankCompressor(Settings settings, SvdSolver svd) {
        this.settings = settings;
        this.svd = svd;
    }

    public LowRankCompressor(Settings settings) {
        this(settings, SvdSolver.standard());
    }

    public Settings settings() {
        return settings;
    }

    /** The rank and kept columns a (dOut, dIn) matrix gets under the budget (docs/methods/lowrank-lost.md §5); columns is 0 for the SVD methods. */
    public record Plan(int rank, int columns) {}

    /** The docs/methods/lowrank-lost.md §5 budget of one matrix; a ratio that cannot hold rank 1 fails here, naming the module. */
    public Plan plan(String module, int dOut, int dIn) {
        try {
            if (settings.method().isLost()) {
                int columns = Budgets.lostColumns(dIn, settings.lost().rho());
                return new Plan(Budgets.lostRank(dOut, dIn, settings.paramsRatio(), columns), columns);
            }
            return new Plan(Budgets.svdRank(dOut, dIn, settings.paramsRatio()), 0);
        } catch (ShrinkException e) {
            throw new ShrinkException(module + " (" + dOut + "x" + dIn + "): " + e.getMessage(), e);
        }
    }

    /**
     * @param module for error messages, e.g. {@code model.layers.0.self_attn.q_proj}
     * @param w      (dOut, dIn) row-major F32; not modified
     * @param stats  the input statistics the method needs; may be null for weight-only methods
     */
    public Result compress(String module, float[] w, int dOut, int dIn, LinearStats stats) {
        LowRankMethod m = settings.method();
        double[] h = stats == null ? null : stats.gram();
        if ((m.needsCalibration()) && (stats == null || stats.tokens() == 0)) {
            throw new ShrinkException(module + ": method " + m.cliName() + " needs calibration statistics");
        }
        Plan plan = plan(module, dOut, dIn);
        int rank = plan.rank();
        int columns = plan.columns();
        LowRankFactors factors = null;
        LostDecomposition lost = null;
        double damping = Double.NaN;
        switch (m) {
            case SVD -> factors = new TruncatedSvd(svd).compress(w, dOut, dIn, rank);
            case WHITENED_SVD -> {
                WhitenedSvd.Result r = new WhitenedSvd(svd, settings.damp()).compress(w, dOut, dIn, h, rank);
                factors = r.factors();
                damping = r.damping();
            }
            case ASVD -> factors = new ActivationScaledSvd(svd, settings.alpha()).compress(w, dOut, dIn, stats.meanAbs(), rank);
            case LOST -> lost = new Lost(svd, settings.lost()).decompose(w, dOut, dIn, rank, columns);
            case LOST_WHITENED -> {
                WhitenedSvd.Result r = new WhitenedSvd(svd, settings.damp()).compress(w, dOut, dIn, h, rank);
                lost = new Lost(svd, settings.lost()).complement(w, r.factors(), Lost.channelNorms(h, dIn), columns);
                damping = r.damping();
            }
        }
        if (lost != null) factors = lost.lowRank();
        float[] what = lost != null ? lost.reconstruct() : factors.reconstruct();
        long params = lost != null ? lost.params() : factors.params();
        double outErr = h == null ? Double.NaN : ReconstructionError.relativeWeighted(w, what, h, dOut, dIn);
        return new Result(factors, lost, what, params, ReconstructionError.relativeFrobenius(w, what), outErr, damping);
    }
}
