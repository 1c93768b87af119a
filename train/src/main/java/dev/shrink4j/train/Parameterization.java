package dev.shrink4j.train;

import java.util.Locale;

/**
 * How the block linears are parameterised during training (docs/methods/lowrank-lost.md §7, METHODS §7.1–§7.4).
 * Embedding, LM head and norms are always dense.
 */
public enum Parameterization {
    /** W (d_out, d_in), full rank. */
    DENSE,
    /** y = B·A·x at the parameter count of {@code --params-ratio} (the low-rank-only baseline). */
    LOWRANK,
    /** y = γ·B·SiLU(A·x) + (1 − γ)·W_s·x_I with I fixed at the SVD initialisation. */
    LOST;

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
