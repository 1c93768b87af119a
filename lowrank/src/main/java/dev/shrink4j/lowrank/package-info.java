/**
 * Low-rank factorization of linear layers (docs/methods/lowrank-lost.md §1–§3, docs/methods/lowrank-lost.md §4–§8): truncated, whitened and
 * activation-scaled SVD and the LOST low-rank + column-sparse decomposition, their parameter budgets
 * (docs/methods/lowrank-lost.md §5), and the block-by-block checkpoint driver behind {@code shrink4j lowrank}. Entry points:
 * {@link dev.shrink4j.lowrank.LowRankCompressor} for one matrix, {@link dev.shrink4j.lowrank.Lost} for
 * the reusable LOST decomposition, {@link dev.shrink4j.lowrank.CheckpointLowRank} for a checkpoint.
 */
package dev.shrink4j.lowrank;
