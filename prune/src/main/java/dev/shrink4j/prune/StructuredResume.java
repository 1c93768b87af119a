package dev.shrink4j.prune;

import dev.shrink4j.model.Resume;
import dev.shrink4j.tensors.ShrinkException;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Structured pruning's model-spanning stages kept in a {@link Resume} directory (docs/reliability.md
 * "Resume"): stage 1's kept FFN neurons per block (2SSP, width) and every finished greedy round (2SSP
 * stage 2, depth), each checkpointed as it finishes. A rerun takes them as they were and says so.
 */
final class StructuredResume {
    private final Resume resume; // null: nothing kept
    private final String prefix; // "2ssp", "width", "depth"

    StructuredResume(Resume resume, StructuredPruning.Kind kind) {
        this.resume = resume;
        this.prefix = switch (kind) {
            case TWO_SSP -> "2ssp";
            case WIDTH -> "width";
            case DEPTH -> "depth";
        };
    }

    /** Stage 1's kept neuron indices per block, when the interrupted run finished stage 1. */
    Optional<int[][]> keptNeurons() {
        if (resume == null) return Optional.empty();
        try (Arena a = Arena.ofConfined()) {
            return resume.entry(prefix + "-stage1", a).map(e -> {
                List<?> blocks = (List<?>) e.record().get("kept");
                int[][] kept = new int[blocks.size()][];
                for (int l = 0; l < kept.length; l++) {
                    List<?> idx = (List<?>) blocks.get(l);
                    kept[l] = new int[idx.size()];
                    for (int i = 0; i < kept[l].length; i++) kept[l][i] = ((Number) idx.get(i)).intValue();
                }
                resume.note("resume: " + prefix + " stage 1 (FFN neuron scores over the whole model) from the interrupted run (checkpointed)");
                return kept;
            });
        }
    }

    void keptNeurons(int[][] kept) {
        if (resume == null) return;
        List<Object> blocks = new ArrayList<>();
        for (int[] k : kept) {
            List<Object> idx = new ArrayList<>(k.length);
            for (int i : k) idx.add(i);
            blocks.add(idx);
        }
        resume.write(prefix + "-stage1", Map.of(), Map.of("kept", blocks));
    }

    /** The greedy rounds (2SSP stage 2 or depth), each checkpointed as it finishes. */
    GreedyRemoval.Journal rounds() {
        if (resume == null) return GreedyRemoval.Journal.NONE;
        return new GreedyRemoval.Journal() {
            @Override
            public List<GreedyRemoval.Step> done() {
                List<GreedyRemoval.Step> steps = new ArrayList<>();
                try (Arena a = Arena.ofConfined()) {
                    for (int r = 0; resume.has(name(r)); r++) {
                        Map<String, Object> rec = resume.entry(name(r), a).orElseThrow().record();
                        List<?> scores = (List<?>) rec.get("candidate_scores");
                        double[] c = new double[scores.size()];
                        for (int i = 0; i < c.length; i++) c[i] = Resume.real(scores.get(i));
                        steps.add(new GreedyRemoval.Step(((Number) rec.get("removed")).intValue(), Resume.real(rec.get("score")), c));
                    }
                } catch (ClassCastException | NullPointerException e) {
                    throw new ShrinkException("resume: a greedy round of " + prefix + " is unreadable; run again with --no-resume", e);
                }
                if (!steps.isEmpty()) {
                    resume.note(String.format(Locale.ROOT, "resume: %s greedy rounds 1–%d from the interrupted run (checkpointed)", prefix, steps.size()));
                }
                return steps;
            }

            @Override
            public void finished(int round, GreedyRemoval.Step step) {
                Map<String, Object> rec = new LinkedHashMap<>();
                rec.put("removed", step.removed());
                rec.put("score", Resume.real(step.score()));
                List<Object> c = new ArrayList<>();
                for (double d : step.candidateScores()) c.add(Resume.real(d));
                rec.put("candidate_scores", c);
                resume.write(name(round), Map.of(), rec);
            }

            private String name(int round) {
                return String.format(Locale.ROOT, "%s-round-%03d", prefix, round);
            }
        };
    }
}
