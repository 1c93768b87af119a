package dev.shrink4j.train;

/**
 * Learning rate at step t (from 1): linear warm-up to {@code peak} over {@code warmup} steps, then
 * cosine decay to {@code peak·minRatio} at step {@code total} (the schedule of the Chinchilla and
 * Llama papers). Steps past {@code total} keep the floor.
 *
 * @param peak     the maximum learning rate
 * @param warmup   warm-up steps (0 starts at the peak)
 * @param total    total steps
 * @param minRatio floor as a fraction of the peak (0.1 in Llama)
 */
public record LrSchedule(double peak, long warmup, long total, double minRatio) {
    public LrSchedule {
        if (!(peak > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + peak);
        if (warmup < 0 || total < 1) throw new IllegalArgumentException("need warmup ≥ 0 and total ≥ 1 steps");
        if (!(minRatio >= 0 && minRatio <= 1)) throw new IllegalArgumentException("min ratio must be in [0, 1]");
    }

    public double at(long t) {
        if (t <= warmup) return peak * t / Math.max(1, warmup);
        if (t >= total) return peak * minRatio;
        double progress = (double) (t - warmup) / Math.max(1, total - warmup);
        return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
}
