package dev.shrink4j.cli;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * Quality before and after a compression, for every compression command: {@code --eval FILE}
 * (repeatable) scored by the docs/methods/evaluation.md §1 protocol, NLL, perplexity and KL(P_original ‖ P_compressed).
 * Without {@code --eval}, the model's own seeded generations (a seed the calibration does not use)
 * stand in, so a run with nothing but the checkpoint still shows the change in quality.
 */
public final class EvalSupport {
    /** Seed offset of the self-generated evaluation text relative to the calibration seed. */
    private static final long SELF_EVAL_SEED_OFFSET = 1_000_003;
    private static final int SELF_EVAL_SEQUENCES = 16;

    /** One evaluation text, tokenized once. */
    public record Text(String label, int[] stream) {}

    private final List<Text> texts;
    private final int seqLen;
    private final int maxWindows;
    private final List<Map<String, Object>> rows = new ArrayList<>();
    private final List<Perplexity.Result> before = new ArrayList<>();
    private final Progress progress;

    private EvalSupport(List<Text> texts, int seqLen, int maxWindows, Progress progress) {
        this.texts = texts;
        this.seqLen = seqLen;
        this.maxWindows = maxWindows;
        this.progress = progress;
    }

    public static void addOptions(Options o) {
        o.addOption(Option.builder().longOpt("eval").hasArg().argName("FILE")
                .desc("text to score before and after (repeatable); default: the model's own generations").build());
        o.addOption(Option.builder().longOpt("eval-seq-len").hasArg().argName("T").desc("evaluation window incl. BOS (default 256, as eval)").build());
        o.addOption(Option.builder().longOpt("max-windows").hasArg().argName("N").desc("score only the first N windows of each text").build());
        o.addOption(Option.builder().longOpt("no-eval").desc("skip the before/after evaluation").build());
    }

    /** Reads and tokenizes the evaluation texts (before any work starts, so a bad file fails fast). */
    static EvalSupport fromCommandLine(Args args, LlamaModel model, Tokenizer tok, long seed, Progress progress) {
        if (args.has("no-eval")) return new EvalSupport(List.of(), 0, 0, progress);
        int T = args.integer("eval-seq-len", Math.min(256, model.config().maxPositions()), 2, model.config().maxPositions());
        int maxWindows = args.integer("max-windows", 0, 1);
        List<Text> texts = new ArrayList<>();
        if (args.has("eval")) {
            for (String f : args.values("eval")) {
                Path p = Path.of(f);
                String text = Args.readText("--eval", p);
                texts.add(new Text(p.getFileName().toString(), tok.encode(text, false)));
            }
        } else {
            progress.stage("evaluation text: the model generates " + SELF_EVAL_SEQUENCES + " × " + (T - 1) + " tokens", 0);
            Calibration c = Calibration.selfGenerated(model, SELF_EVAL_SEQUENCES, T, seed + SELF_EVAL_SEED_OFFSET,
                    (done, total) -> progress.tick((int) done, (int) total, "tokens", ""));
            int[][] seqs = c.sequences();
            int[] stream = new int[seqs.length * (seqs[0].length - 1)];
            for (int s = 0; s < seqs.length; s++) System.arraycopy(seqs[s], 1, stream, s * (seqs[s].length - 1), seqs[s].length - 1);
            texts.add(new Text("self-generated (seed " + (seed + SELF_EVAL_SEED_OFFSET) + ")", stream));
        }
        return new EvalSupport(texts, T, maxWindows, progress);
    }

    public boolean enabled() {
        return !texts.isEmpty();
    }

    /** Scores the original model. */
    public void before(LlamaModel original) {
        for (Text t : texts) before.add(score("evaluate original on " + t.label(), original, t, null));
    }

    /** One text with progress (running perplexity, ETA) when it takes more than a moment. */
    private Perplexity.Result score(String stage, LlamaModel model, Text t, LlamaModel reference) {
        int windows = Perplexity.windowCount(t.stream().length, seqLen);
        progress.quietStage(stage, maxWindows > 0 ? Math.min(windows, maxWindows) : windows);
        return Perplexity.evaluate(model, t.stream(), seqLen, maxWindows, reference,
                (done, total, nll) -> progress.tick(done, total, "windows", String.format(java.util.Locale.ROOT, "running ppl %.3f", Math.exp(nll))));
    }

    /** Scores the compressed model against the original (KL) and returns one row per text. */
    public List<Map<String, Object>> after(LlamaModel compressed, LlamaModel original) {
        for (int i = 0; i < texts.size(); i++) {
            Perplexity.Result a = score("evaluate compressed on " + texts.get(i).label(), compressed, texts.get(i), original);
            Perplexity.Result b = before.get(i);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("text", texts.get(i).label());
            r.put("seq_len", seqLen);
            r.put("windows", a.windows());
            r.put("tokens", a.tokens());
            r.put("nll_before", b.nll());
            r.put("nll_after", a.nll());
            r.put("delta_nll", a.nll() - b.nll());
            r.put("ppl_before", b.ppl());
            r.put("ppl_after", a.ppl());
            r.put("kl", a.kl());
            rows.add(r);
        }
        return rows;
    }

    /** One line per text: {@code text: ppl 12.3 → 13.1 (ΔNLL +0.063, KL 0.041)}. */
    public static String line(Map<String, Object> r) {
        return String.format("%s: ppl %.3f → %.3f (ΔNLL %+.4f nats, KL %.4f nats/token; %s tokens, T = %s, BOS-prefixed windows)",
                r.get("text"), (Double) r.get("ppl_before"), (Double) r.get("ppl_after"), (Double) r.get("delta_nll"),
                (Double) r.get("kl"), r.get("tokens"), r.get("seq_len"));
    }
}
