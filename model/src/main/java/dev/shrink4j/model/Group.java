package dev.shrink4j.model;

import java.util.List;

/**
 * True-sequential groups of a block (docs/methods/pipeline.md §1–§2), in execution order: members of a group share one
 * input, so q/k/v share one H = XᵀX and gate/up share one.
 */
public enum Group {
    QKV(List.of(Proj.Q, Proj.K, Proj.V)),
    O(List.of(Proj.O)),
    GATE_UP(List.of(Proj.GATE, Proj.UP)),
    DOWN(List.of(Proj.DOWN));

    private final List<Proj> members;

    Group(List<Proj> members) {
        this.members = members;
    }

    public List<Proj> members() {
        return members;
    }

    public boolean isAttention() {
        return this == QKV || this == O;
    }
}
