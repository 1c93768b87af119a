package dev.shrink4j.quantize;

import dev.shrink4j.tensors.formats.UniformGrid;

/**
 * LNQ's knobs, docs/methods/guidedquant-lnq.md §5 / docs/methods/guidedquant-lnq.md §6.
 *
 * @param iterations T, outer iterations after the initial C-step (2)
 * @param sweeps     K, coordinate-descent sweeps per P-step (4)
 * @param blockSize  lazy block of the CD sweep (128)
 * @param ridge      λ relative to mean(diag H) (10⁻⁷, docs/methods/guidedquant-lnq.md §5.3)
 */
public record LnqOptions(int bits, int iterations, int sweeps, int blockSize, double ridge) {
    public LnqOptions {
        UniformGrid.checkBits(bits);
        if (iterations < 0 || sweeps < 1 || blockSize < 1 || !(ridge >= 0)) {
            throw new IllegalArgumentException("LNQ needs T ≥ 0, K ≥ 1, a positive block size and λ ≥ 0");
        }
    }

    /** Paper and shrink4j defaults: T = 2, K = 4, lazy block 128, λ = 10⁻⁷·mean(diag H). */
    public static LnqOptions defaults(int bits) {
        return new LnqOptions(bits, 2, 4, 128, 1e-7);
    }

    public LnqOptions withIterations(int iterations, int sweeps) {
        return new LnqOptions(bits, iterations, sweeps, blockSize, ridge);
    }
}
