package dev.shrink4j.quantize;

import dev.shrink4j.model.Layer;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.tensors.formats.CompressedWeight;
import java.lang.foreign.Arena;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where the compressed linears live: kept in the caller's arena ({@link Quantizer.Result#weights()}),
 * or, with a {@link Quantizer.WeightSink}, in one arena per block that is handed to the sink and freed
 * once the block's output has been propagated — the block then gets its original layer back, so memory
 * does not grow with depth. Lifecycle per block: {@link #arenaFor} → {@link #put} … → {@link #release}.
 */
final class StreamedWeights {
    private final Arena arena; // the caller's: owns kept weights
    private final Quantizer.WeightSink sink; // null: keep every weight
    private final Map<String, CompressedWeight> weights = new LinkedHashMap<>(); // module → weight, model order
    private int block = -1; // streaming: the block being compressed
    private Layer original; // its layer before compression
    private Arena blockArena; // its weights' memory

    StreamedWeights(Arena arena, Quantizer.WeightSink sink) {
        this.arena = arena;
        this.sink = sink;
    }

    /** The arena for {@code layer}'s compressed tensors; {@code current} is its layer before any group is replaced. */
    Arena arenaFor(int layer, Layer current) {
        if (sink == null) return arena;
        if (layer != block) {
            if (blockArena != null) throw new IllegalStateException("block " + block + " was not released before block " + layer);
            block = layer;
            original = current;
            blockArena = Arena.ofShared();
        }
        return blockArena;
    }

    void put(String module, CompressedWeight weight) {
        weights.put(module, weight);
    }

    /** Streaming: hands block {@code b}'s weights to the sink, restores its original layer and frees the weights. */
    void release(LlamaModel model, int b) {
        if (sink == null || b != block) return;
        String prefix = "model.layers." + b + ".";
        Iterator<Map.Entry<String, CompressedWeight>> it = weights.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, CompressedWeight> e = it.next();
            if (!e.getKey().startsWith(prefix)) continue;
            sink.accept(e.getKey(), e.getValue());
            it.remove();
        }
        model.setLayer(original);
        closeBlock();
    }

    /** The kept weights (empty when streamed). */
    Map<String, CompressedWeight> kept() {
        return weights;
    }

    /** Frees a block left unreleased by a failure. */
    void closeBlock() {
        if (blockArena != null) blockArena.close();
        blockArena = null;
        original = null;
        block = -1;
    }
}
