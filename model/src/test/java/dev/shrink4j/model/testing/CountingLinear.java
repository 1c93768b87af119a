package dev.shrink4j.model.testing;

import dev.shrink4j.model.Linear;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicInteger;

/** A linear that counts its forward calls (every block forward runs each of its linears once). For tests. */
public record CountingLinear(Linear inner, AtomicInteger forwards) implements Linear {
    @Override
    public int inFeatures() {
        return inner.inFeatures();
    }

    @Override
    public int outFeatures() {
        return inner.outFeatures();
    }

    @Override
    public void forward(float[] x, int n, float[] y) {
        forwards.incrementAndGet();
        inner.forward(x, n, y);
    }

    @Override
    public void backwardInput(float[] dy, int n, float[] dx) {
        inner.backwardInput(dy, n, dx);
    }

    @Override
    public Tensor weight(Arena arena) {
        return inner.weight(arena);
    }

    @Override
    public float[] bias() {
        return inner.bias();
    }
}
