package dev.shrink4j.quantize;

import dev.shrink4j.tensors.linalg.Matrices;

/** Relative damping (docs/methods/pipeline.md §3) as a copy; the retry schedules live in {@link dev.shrink4j.tensors.linalg.Damping}. */
final class Damping {
    private Damping() {}

    static double meanDiag(double[] h, int n) {
        return Matrices.meanDiagonal(h, n);
    }

    /** H with δ·mean(diag H) added to the diagonal (a copy). */
    static double[] damped(double[] h, int n, double delta) {
        double[] d = h.clone();
        double add = delta * meanDiag(h, n);
        for (int i = 0; i < n; i++) {
            d[i * n + i] += add;
        }
        return d;
    }
}
