package dev.shrink4j.model;

import java.util.EnumMap;
import java.util.Map;

/**
 * The weights of one decoder block. Immutable: methods that compress a group build a new layer with
 * {@link #with(Proj, Linear)} and install it with {@link LlamaModel#setLayer}. Blocks whose attention
 * was removed (2SSP) have null attention members.
 *
 * @param attnNorm input_layernorm weight (hidden), null without attention
 * @param mlpNorm  post_attention_layernorm weight (hidden)
 */
public record Layer(int index, float[] attnNorm, Map<Proj, Linear> linears, float[] mlpNorm) {
    public Layer {
        linears = Map.copyOf(linears);
    }

    public Linear linear(Proj p) {
        return linears.get(p);
    }

    public boolean hasAttention() {
        return attnNorm != null;
    }

    /** FFN width of this block. */
    public int intermediateSize() {
        return linears.get(Proj.GATE).outFeatures();
    }

    /** This layer with {@code p} replaced. */
    public Layer with(Proj p, Linear replacement) {
        Map<Proj, Linear> m = new EnumMap<>(Proj.class);
        m.putAll(linears);
        m.put(p, replacement);
        return new Layer(index, attnNorm, m, mlpNorm);
    }
}
