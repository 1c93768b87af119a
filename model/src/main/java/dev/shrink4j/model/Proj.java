package dev.shrink4j.model;

/** The seven linears of a Llama-family decoder block, with their Hugging Face module names. */
public enum Proj {
    Q("self_attn.q_proj"),
    K("self_attn.k_proj"),
    V("self_attn.v_proj"),
    O("self_attn.o_proj"),
    GATE("mlp.gate_proj"),
    UP("mlp.up_proj"),
    DOWN("mlp.down_proj");

    private final String suffix;

    Proj(String suffix) {
        this.suffix = suffix;
    }

    /** The module name, e.g. {@code model.layers.3.self_attn.q_proj}. */
    public String module(int layer) {
        return "model.layers." + layer + "." + suffix;
    }

    /** The weight tensor name, e.g. {@code model.layers.3.self_attn.q_proj.weight}. */
    public String weightName(int layer) {
        return module(layer) + ".weight";
    }

    /** The true-sequential group (docs/methods/pipeline.md §1–§2) this linear belongs to. */
    public Group group() {
        return switch (this) {
            case Q, K, V -> Group.QKV;
            case O -> Group.O;
            case GATE, UP -> Group.GATE_UP;
            case DOWN -> Group.DOWN;
        };
    }

    public boolean isAttention() {
        return ordinal() <= O.ordinal();
    }
}
