package dev.shrink4j.model;

/**
 * Sees the input of each true-sequential group during a block's forward pass: the calibration
 * activations X (n, d_in) from which methods accumulate H = XᵀX, row-weighted variants or channel
 * norms. The array is only valid during the call.
 */
@FunctionalInterface
public interface LinearObserver {
    /**
     * @param layer block index
     * @param group the group whose members all read {@code x}
     * @param x     (n, d_in) rows = tokens of all sequences of the batch
     */
    void input(int layer, Group group, float[] x, int n, int dIn);
}
