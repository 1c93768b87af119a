package dev.shrink4j.cli;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.io.Json;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code shrink4j eval}: perplexity (and KL against a reference) by the protocol of docs/methods (evaluation). */
final class EvalCommand implements Command {
    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String summary() {
        return "perplexity of a model on a text file (and KL divergence to a reference model)";
    }


    @Override
    public String footer() {
        return """

                Protocol: the whole text is tokenized once without BOS and cut into consecutive,
                non-overlapping windows of seq-len - 1 tokens (the incomplete tail is dropped). Each window
                is scored on its own with BOS prepended: seq-len inputs, seq-len - 1 predictions covering
                every token of the window. NLL is the token-weighted mean over all windows in nats/token
                (fp64), ppl = exp(NLL). With --reference, KL(P_reference || P_model) per predicted token,
                averaged over the same predictions, in nats.
                """;
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("model").hasArg().argName("DIR").required().desc("model directory (config.json, safetensors, tokenizer.json) or a llama .gguf file (read in place)").build());
        o.addOption(Option.builder().longOpt("text").hasArg().argName("FILE").required().desc("UTF-8 evaluation text").build());
        o.addOption(Option.builder().longOpt("seq-len").hasArg().argName("T").desc("window length including BOS (default 256)").build());
        o.addOption(Option.builder().longOpt("max-windows").hasArg().argName("N").desc("score only the first N windows").build());
        o.addOption(Option.builder().longOpt("reference").hasArg().argName("DIR").desc("reference model (directory or .gguf) for KL(P_ref || P_model)").build());
        o.addOption(Option.builder().longOpt("json").desc("print JSON (keys nll, ppl, tokens, windows, kl, ...)").build());
        o.addOption(Option.builder().longOpt("quiet").desc("no progress (running perplexity) on stderr").build());
        o.addOption(Args.activationsOption());
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) {
        Args args = new Args(cl);
        args.positionals();
        dev.shrink4j.tensors.formats.ActivationPrecision activations = args.activations();
        int seqLen = args.integer("seq-len", 256, 2);
        int maxWindows = args.integer("max-windows", 0, 1);
        Path modelDir = args.modelInput("model");
        Path textFile = Path.of(args.required("text", "FILE"));
        String text = args.text("text");
        Path referenceDir = args.has("reference") ? args.modelInput("reference") : null;
        Progress progress = new Progress(console.err(), args.has("quiet"));
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(modelDir, arena);
            model.setActivations(activations);
            if (seqLen > model.config().maxPositions()) {
                throw new UsageException("--seq-len " + seqLen + " exceeds the model's context of " + model.config().maxPositions() + " tokens");
            }
            LlamaModel reference = referenceDir == null ? null : LlamaModel.load(referenceDir, arena);
            Tokenizer tokenizer = Tokenizer.load(modelDir, model.config());
            int[] stream = tokenizer.encode(text, false);
            int windows = Perplexity.windowCount(stream.length, seqLen);
            progress.quietStage("eval " + textFile.getFileName(), maxWindows > 0 ? Math.min(maxWindows, windows) : windows);
            long t0 = System.nanoTime();
            Perplexity.Result r = Perplexity.evaluate(model, stream, seqLen, maxWindows, reference, (done, total, nll) ->
                    progress.tick(done, total, "windows", String.format(Locale.ROOT, "running ppl %.4f", Math.exp(nll))));
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (cl.hasOption("json")) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("nll", r.nll());
                m.put("ppl", r.ppl());
                m.put("tokens", r.tokens());
                m.put("windows", r.windows());
                m.put("kl", reference == null ? null : r.kl());
                m.put("seq_len", r.seqLen());
                m.put("bos", "prepended to every window");
                m.put("text", textFile.toString());
                m.put("text_tokens", stream.length);
                m.put("model", modelDir.toString());
                if (reference != null) m.put("reference", cl.getOptionValue("reference"));
                m.put("seconds", seconds);
                console.out().println(Json.write(m, 2));
            } else {
                console.out().printf("text %s: %,d tokens without BOS; %d windows of %d tokens + BOS (seq-len %d)%n",
                        textFile, stream.length, r.windows(), seqLen - 1, seqLen);
                console.out().printf("nll %.6f nats/token   ppl %.4f   over %,d predicted tokens (%.1f s, %.0f tokens/s)%n",
                        r.nll(), r.ppl(), r.tokens(), seconds, r.tokens() / seconds);
                if (reference != null) console.out().printf("kl  %.6f nats/token   KL(P_reference || P_model)%n", r.kl());
            }
        }
        return 0;
    }
}
