package dev.shrink4j.prune;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Greedy removal of whole submodules by calibration perplexity: 2SSP stage 2 removes attention
 * submodules (docs/methods/2ssp.md §3); the depth-pruning baseline removes whole blocks the same way (BlockPruner,
 * arXiv:2406.10594, and ShortGPT style). Each round disables every remaining candidate in turn,
 * scores the model, and permanently removes the one with the lowest score (ties: the lower index).
 */
public final class GreedyRemoval {
    private GreedyRemoval() {}

    /** Scores the model with the given modules disabled (lower is better, e.g. perplexity). */
    @FunctionalInterface
    public interface Scorer {
        double score(SortedSet<Integer> disabled);
    }

    /**
     * One round's choice.
     *
     * @param removed the module removed in this round
     * @param score its score with every module removed so far disabled
     * @param candidateScores score per candidate tried in this round, indexed by module (NaN = not a candidate)
     */
    public record Step(int removed, double score, double[] candidateScores) {}

    /** Listener told after every candidate evaluation (for progress output); may be null. */
    @FunctionalInterface
    public interface Progress {
        void evaluated(int round, int candidate, double score);
    }

    /**
     * Where finished rounds are kept (resume after a crash, docs/reliability.md "Resume"). A round
     * depends only on the modules removed before it, so the rounds an interrupted run finished are
     * taken as they were and the next round continues from their removals.
     */
    public interface Journal {
        Journal NONE = new Journal() {
            @Override
            public List<Step> done() {
                return List.of();
            }

            @Override
            public void finished(int round, Step step) {}
        };

        /** The rounds an interrupted run finished, in order (at most the rounds asked for are used). */
        List<Step> done();

        /** Round {@code round} (0-based) chose {@code step}. */
        void finished(int round, Step step);
    }

    /**
     * Removes {@code count} of {@code modules} modules, skipping ids already in {@code start}.
     * Costs Σ_{i<count} (modules − |start| − i) evaluations (docs/methods/2ssp.md §3 step 3).
     */
    public static List<Step> run(int modules, SortedSet<Integer> start, int count, Scorer scorer, Progress progress) {
        return run(modules, start, count, scorer, progress, Journal.NONE);
    }

    /** As above, taking the rounds {@code journal} has and recording each new one there. */
    public static List<Step> run(int modules, SortedSet<Integer> start, int count, Scorer scorer, Progress progress, Journal journal) {
        TreeSet<Integer> disabled = new TreeSet<>(start);
        if (count > modules - disabled.size()) {
            throw new IllegalArgumentException("cannot remove " + count + " of " + (modules - disabled.size()) + " modules");
        }
        List<Step> steps = new ArrayList<>();
        for (Step done : journal.done()) {
            if (steps.size() == count) break;
            if (done.removed() < 0 || done.removed() >= modules || !disabled.add(done.removed())) {
                throw new IllegalStateException("journal round " + steps.size() + " removes module " + done.removed() + ", which cannot be removed");
            }
            steps.add(done);
        }
        for (int round = steps.size(); round < count; round++) {
            double[] scores = new double[modules];
            java.util.Arrays.fill(scores, Double.NaN);
            int best = -1;
            for (int m = 0; m < modules; m++) {
                if (disabled.contains(m)) {
                    continue;
                }
                TreeSet<Integer> trial = new TreeSet<>(disabled);
                trial.add(m);
                scores[m] = scorer.score(Collections.unmodifiableSortedSet(trial));
                if (progress != null) {
                    progress.evaluated(round, m, scores[m]);
                }
                // NaN (a diverged model) never wins over a finite score
                if (best < 0 || scores[m] < scores[best] || (Double.isNaN(scores[best]) && !Double.isNaN(scores[m]))) {
                    best = m;
                }
            }
            disabled.add(best);
            Step step = new Step(best, scores[best], scores);
            steps.add(step);
            journal.finished(round, step);
        }
        return steps;
    }
}
