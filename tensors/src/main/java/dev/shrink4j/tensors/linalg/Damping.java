package dev.shrink4j.tensors.linalg;

/**
 * Relative diagonal damping with retry (docs/methods/pipeline.md §3, docs/methods/guidedquant-lnq.md §5.2):
 * H ← H + δ·mean(diag H)·I, factor, and on failure multiply δ by {@link Policy#growth()} and retry
 * from the undamped H (so the total added is always δ·mean(diag H)·I, the same as adding only the
 * increment to an already damped H). Every retry is reported to a {@link Listener}.
 *
 * <p>Policies: {@link Policy#GPTQ} (δ = 0.01, ×10, give up above 100) for GPTQ, SparseGPT and the
 * whitened SVD; {@link Policy#LNQ} (undamped first, then 10⁻⁵, ×10, give up above 1) for LNQ.
 */
public final class Damping {
    private Damping() {}

    /** What to compute from the damped matrix. */
    public enum Factor {
        /** U with H = UᵀU ({@link Cholesky#tryFactorUpper}). */
        UPPER,
        /** L with H = LLᵀ ({@link Cholesky#tryFactorLower}); the whitening factor S of docs/methods/lowrank-lost.md §2. */
        LOWER,
        /** U with UᵀU = H⁻¹ ({@link Spd#tryInverseUpperFactor}); GPTQ/SparseGPT's sweep factor. */
        INVERSE_UPPER
    }

    /**
     * A damping schedule.
     *
     * @param initialDelta   first δ (relative to mean(diag H))
     * @param growth         δ multiplier per retry (> 1)
     * @param maxDelta       largest δ tried; beyond it the factorization fails
     * @param undampedFirst  try δ = 0 before {@code initialDelta}
     */
    public record Policy(double initialDelta, double growth, double maxDelta, boolean undampedFirst) {
        public static final Policy GPTQ = new Policy(0.01, 10.0, 100.0, false);
        public static final Policy LNQ = new Policy(1e-5, 10.0, 1.0, true);

        public Policy {
            if (!(initialDelta > 0) || !(growth > 1) || !(maxDelta >= initialDelta)) {
                throw new IllegalArgumentException("bad damping policy: δ₀=" + initialDelta + ", growth=" + growth + ", max=" + maxDelta);
            }
        }

        /** The same schedule starting at another δ. */
        public Policy withInitialDelta(double delta) {
            return new Policy(delta, growth, Math.max(maxDelta, delta), undampedFirst);
        }
    }

    /** Told about each failed attempt before the next one. */
    @FunctionalInterface
    public interface Listener {
        /**
         * @param failedDelta δ of the attempt that failed (0 = undamped)
         * @param pivot       its failing pivot (0-based)
         * @param nextDelta   δ of the next attempt
         */
        void retry(double failedDelta, int pivot, double nextDelta);

        /**
         * Logs each retry at DEBUG through {@link System.Logger}: retries are part of the policy (LNQ starts
         * undamped on purpose) and callers report the δ that worked, so they are not warnings.
         */
        Listener LOG = (failed, pivot, next) -> System.getLogger(Damping.class.getName()).log(
                System.Logger.Level.DEBUG,
                () -> "Cholesky failed at pivot " + pivot + " with damping " + failed + "; retrying with " + next);
    }

    /**
     * The factor and the damping that made it possible.
     *
     * @param factor  (n, n) row-major result as asked by {@link Factor}
     * @param delta   δ used (0 if undamped)
     * @param added   δ·mean(diag H), the amount added to each diagonal entry
     * @param retries failed attempts before this one
     */
    public record Result(double[] factor, double delta, double added, int retries) {}

    /**
     * Damps and factors H, retrying per the policy.
     *
     * @param h (n, n) symmetric, upper triangle read; not modified
     * @throws NotPositiveDefiniteException when even δ = {@code policy.maxDelta()} fails
     */
    public static Result factor(double[] h, int n, Factor what, Policy policy, Listener listener) {
        Cholesky.checkSquare(h, n);
        return factorInto(new double[h.length], work -> System.arraycopy(h, 0, work, 0, h.length), n, what, policy, listener);
    }

    /** Writes the (undamped) matrix to factor into a work array; see {@link #factorInto}. */
    @FunctionalInterface
    public interface Source {
        void fill(double[] work);
    }

    /**
     * {@link #factor} in one caller-owned n² buffer: {@code source} fills {@code work} before the first
     * attempt and again before each retry (e.g. re-permuting H), so no second copy of H is made — at
     * d_in = 5632 a copy is 254 MB. The result's factor is {@code work}.
     */
    public static Result factorInto(double[] work, Source source, int n, Factor what, Policy policy, Listener listener) {
        Cholesky.checkSquare(work, n);
        source.fill(work);
        double mean = Matrices.meanDiagonal(work, n);
        double scale = mean > 0 && Double.isFinite(mean) ? mean : 1.0;
        int retries = 0;
        double delta = policy.undampedFirst() ? 0.0 : policy.initialDelta();
        while (true) {
            if (retries > 0) source.fill(work);
            double added = delta * scale;
            if (added != 0.0) {
                for (int i = 0; i < n; i++) {
                    work[i * n + i] += added;
                }
            }
            int pivot = switch (what) {
                case UPPER -> Cholesky.tryFactorUpper(work, n);
                case LOWER -> Cholesky.tryFactorLower(work, n);
                case INVERSE_UPPER -> Spd.tryInverseUpperFactor(work, n);
            };
            if (pivot < 0) {
                return new Result(work, delta, added, retries);
            }
            double next = delta == 0.0 ? policy.initialDelta() : delta * policy.growth();
            if (next > policy.maxDelta() * (1 + 1e-12)) {
                throw new NotPositiveDefiniteException(pivot, n);
            }
            if (listener != null) {
                listener.retry(delta, pivot, next);
            }
            retries++;
            delta = next;
        }
    }

    /** {@link #factor} with {@link Listener#LOG}. */
    public static Result factor(double[] h, int n, Factor what, Policy policy) {
        return factor(h, n, what, policy, Listener.LOG);
    }
}
