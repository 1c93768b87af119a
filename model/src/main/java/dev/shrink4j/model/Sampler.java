package dev.shrink4j.model;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: greedy (temperature 0, ties to the lowest id) or nucleus
 * sampling (softmax at temperature t, smallest set of tokens whose probability reaches top-p),
 * seeded for reproducibility.
 */
public final class Sampler {
    private final double temperature;
    private final double topP;
    private final SplittableRandom random;

    private Sampler(double temperature, double topP, long seed) {
        if (temperature < 0 || !(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("need temperature ≥ 0 and 0 < top-p ≤ 1, got " + temperature + ", " + topP);
        }
        this.temperature = temperature;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    public static Sampler greedy() {
        return new Sampler(0, 1, 0);
    }

    public static Sampler of(double temperature, double topP, long seed) {
        return new Sampler(temperature, topP, seed);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    /** The next token given {@code logits} (vocab). */
    public int next(float[] logits) {
        if (temperature == 0) {
            return argmax(logits);
        }
        int v = logits.length;
        float max = logits[argmax(logits)];
        double[] p = new double[v];
        double sum = 0;
        for (int i = 0; i < v; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        // Sort ids by descending probability (ties by id): keys pack −p's order with the id.
        long[] keys = new long[v];
        for (int i = 0; i < v; i++) keys[i] = (Long.MAX_VALUE - Double.doubleToLongBits(p[i])) & ~0xFFFFFFFFL | i;
        Arrays.sort(keys);
        int[] order = new int[v];
        for (int i = 0; i < v; i++) order[i] = (int) keys[i];
        double mass = 0;
        int keep = 0;
        while (keep < v && mass < topP * sum) mass += p[order[keep++]];
        double r = random.nextDouble() * mass;
        for (int i = 0; i < keep; i++) {
            r -= p[order[i]];
            if (r <= 0) return order[i];
        }
        return order[keep - 1];
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
