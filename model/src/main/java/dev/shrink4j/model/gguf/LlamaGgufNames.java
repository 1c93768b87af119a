package dev.shrink4j.model.gguf;

import dev.shrink4j.tensors.ShrinkException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hugging Face ↔ llama.cpp tensor names for the Llama family ({@code convert_hf_to_gguf.py}'s
 * table, restated), and the Q/K row permutation between HF's rotate-half RoPE and llama.cpp's
 * adjacent-pair RoPE.
 */
public final class LlamaGgufNames {
    private static final Pattern HF_LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)\\.(weight|bias)");
    private static final Pattern GG_LAYER = Pattern.compile("blk\\.(\\d+)\\.(\\w+)\\.(weight|bias)");
    private static final String[][] LAYER = {
        {"input_layernorm", "attn_norm"}, {"self_attn.q_proj", "attn_q"}, {"self_attn.k_proj", "attn_k"},
        {"self_attn.v_proj", "attn_v"}, {"self_attn.o_proj", "attn_output"}, {"post_attention_layernorm", "ffn_norm"},
        {"mlp.gate_proj", "ffn_gate"}, {"mlp.up_proj", "ffn_up"}, {"mlp.down_proj", "ffn_down"},
    };
    private static final String[][] GLOBAL = {
        {"model.embed_tokens.weight", "token_embd.weight"}, {"model.norm.weight", "output_norm.weight"}, {"lm_head.weight", "output.weight"},
    };

    private LlamaGgufNames() {}

    /** The GGUF name of an HF tensor, or empty when llama.cpp has no such tensor. */
    public static Optional<String> toGguf(String hf) {
        for (String[] g : GLOBAL) if (g[0].equals(hf)) return Optional.of(g[1]);
        Matcher m = HF_LAYER.matcher(hf);
        if (m.matches()) {
            for (String[] l : LAYER) if (l[0].equals(m.group(2))) return Optional.of("blk." + m.group(1) + "." + l[1] + "." + m.group(3));
        }
        return Optional.empty();
    }

    /** The HF name of a GGUF tensor; unknown names are a user error naming the file. */
    public static String toHf(String gguf, Object file) {
        for (String[] g : GLOBAL) if (g[1].equals(gguf)) return g[0];
        Matcher m = GG_LAYER.matcher(gguf);
        if (m.matches()) {
            for (String[] l : LAYER) if (l[1].equals(m.group(2))) return "model.layers." + m.group(1) + "." + l[0] + "." + m.group(3);
        }
        throw new ShrinkException(file + ": GGUF tensor \"" + gguf + "\" has no Llama-family counterpart (shrink4j converts llama-architecture files)");
    }

    /** Heads whose rows {@link #permute} reorders for this HF tensor: numHeads for q, numKvHeads for k, 0 otherwise. */
    static int ropeHeads(String hf, int numHeads, int numKvHeads) {
        if (hf.contains(".self_attn.q_proj.")) return numHeads;
        if (hf.contains(".self_attn.k_proj.")) return numKvHeads;
        return 0;
    }

    /**
     * Row map of llama.cpp's Q/K permutation: within each head of {@code headDim} rows, HF row
     * {@code half·headDim/2 + i} becomes GGUF row {@code 2i + half} ({@code LlamaModel.permute}:
     * reshape (heads, 2, headDim/2, ·), swap axes 1 and 2).
     *
     * @return ggufRow → hfRow
     */
    static int[] ggufToHfRows(int rows, int heads) {
        int hd = rows / heads;
        int[] map = new int[rows];
        for (int h = 0; h < heads; h++) {
            for (int half = 0; half < 2; half++) {
                for (int i = 0; i < hd / 2; i++) map[h * hd + 2 * i + half] = h * hd + half * hd / 2 + i;
            }
        }
        return map;
    }

    /** The inverse of {@link #ggufToHfRows}: hfRow → ggufRow. */
    static int[] hfToGgufRows(int rows, int heads) {
        int[] g2h = ggufToHfRows(rows, heads);
        int[] h2g = new int[rows];
        for (int r = 0; r < rows; r++) h2g[g2h[r]] = r;
        return h2g;
    }
}
