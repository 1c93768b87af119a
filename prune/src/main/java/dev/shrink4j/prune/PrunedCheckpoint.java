package dev.shrink4j.prune;

import dev.shrink4j.model.CheckpointConfig;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes pruned checkpoints. Structurally pruned models (2SSP, depth) are written from the model's
 * installed layers as a genuinely smaller dense checkpoint (docs/methods/2ssp.md §5): gate/up/down at their new width,
 * no q/k/v/o nor input_layernorm in attention-less blocks, removed blocks gone and the rest renumbered;
 * config.json keeps the original keys with {@code intermediate_size} / {@code num_hidden_layers}
 * updated and a {@code shrink4j} block recording per-layer widths and attention-less layers.
 */
public final class PrunedCheckpoint {
    private PrunedCheckpoint() {}

    /** The {@code shrink4j} block of a config map, created (format_version 1) when absent. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> shrink4jBlock(Map<String, Object> config) {
        Object b = config.get("shrink4j");
        if (b instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        Map<String, Object> block = new LinkedHashMap<>();
        block.put("format_version", 1L);
        config.put("shrink4j", block);
        return block;
    }

    /** Copies every tensor of the source not in {@code written} and not dropped by {@code keep}. */
    public static void copyRest(LlamaModel model, CheckpointWriter out, Set<String> written) {
        for (String name : new java.util.TreeSet<>(model.weights().names())) {
            if (!written.contains(name)) {
                out.add(name, model.weights().tensor(name));
            }
        }
    }

    /**
     * Writes the model's current (structurally pruned) layers; {@code keep} lists the blocks written,
     * in order (renumbered 0..), or null for all.
     *
     * @param dtype storage type of the rewritten linears (the source's)
     * @param provenance what to record under {@code shrink4j.provenance}
     */
    public static void writeStructured(LlamaModel model, int[] keep, DType dtype, CheckpointWriter out,
                                       Map<String, Object> provenance) {
        int[] blocks = keep != null ? keep : java.util.stream.IntStream.range(0, model.numLayers()).toArray();
        List<Long> widths = new ArrayList<>();
        List<Long> noAttention = new ArrayList<>();
        Set<String> consumed = new java.util.HashSet<>();
        for (int l = 0; l < model.numLayers(); l++) {
            for (String n : model.weights().names()) {
                if (n.startsWith("model.layers." + l + ".")) {
                    consumed.add(n);
                }
            }
        }
        for (int i = 0; i < blocks.length; i++) {
            Layer layer = model.layer(blocks[i]);
            String pre = "model.layers." + i + ".";
            try (Arena arena = Arena.ofConfined()) {
                if (layer.hasAttention()) {
                    out.add(pre + "input_layernorm.weight", vector(arena, layer.attnNorm(), dtype));
                } else {
                    noAttention.add((long) i);
                }
                out.add(pre + "post_attention_layernorm.weight", vector(arena, layer.mlpNorm(), dtype));
                for (Proj p : Proj.values()) {
                    Linear lin = layer.linear(p);
                    if (lin == null) {
                        continue;
                    }
                    Tensor w = lin.weight(arena);
                    out.add(p.module(i) + ".weight", w.dtype() == dtype ? w : w.convert(arena, dtype));
                    if (lin.bias() != null) {
                        out.add(p.module(i) + ".bias", vector(arena, lin.bias(), dtype));
                    }
                }
            }
            widths.add((long) layer.intermediateSize());
        }
        copyRest(model, out, consumed);
        Map<String, Object> config = CheckpointConfig.read(model.weights().directory());
        config.put("num_hidden_layers", (long) blocks.length);
        boolean uniform = widths.stream().distinct().count() <= 1;
        if (!widths.isEmpty()) {
            config.put("intermediate_size", widths.get(0));
        }
        Map<String, Object> sh = shrink4jBlock(config);
        sh.put("intermediate_sizes", widths);
        sh.put("attention_removed", noAttention);
        if (!uniform) {
            config.put("intermediate_size", widths.stream().max(Long::compare).orElse(0L));
        }
        sh.put("provenance", provenance);
        out.writeFile("config.json", CheckpointConfig.toJson(config));
    }

    private static Tensor vector(Arena arena, float[] v, DType dtype) {
        Tensor t = Tensor.ofFloats(arena, Shape.of(v.length), v);
        return dtype == DType.F32 ? t : t.convert(arena, dtype);
    }

    /** Copies the tokenizer and generation files of the source directory. */
    public static void copySideFiles(Path source, CheckpointWriter out) {
        for (String f : new String[] {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                      "generation_config.json", "tokenizer.model", "LICENSE"}) {
            Path p = source.resolve(f);
            if (Files.isRegularFile(p)) {
                out.copyFile(p);
            }
        }
    }
}
