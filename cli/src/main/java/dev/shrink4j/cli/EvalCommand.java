package dev.shrink4j.cli;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.io.Json;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code shrink4j eval}: perplexity (and KL against a reference) by the protocol of METHODS §9.2. */
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
    public String arguments() {
        return "";
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
        o.addOption(Option.builder().longOpt("model").hasArg().argName("DIR").required().desc("model directory (config.json, safetensors, tokenizer.json)").build());
        o.addOption(Option.builder().longOpt("text").hasArg().argName("FILE").required().desc("UTF-8 evaluation text").build());
        o.addOption(Option.builder().longOpt("seq-len").hasArg().argName("T").desc("window length including BOS (default 256)").build());
        o.addOption(Option.builder().longOpt("max-windows").hasArg().argName("N").desc("score only the first N windows").build());
        o.addOption(Option.builder().longOpt("reference").hasArg().argName("DIR").desc("reference model for KL(P_ref || P_model)").build());
        o.addOption(Option.builder().longOpt("json").desc("print JSON (keys nll, ppl, tokens, windows, kl, ...)").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) {
        if (!cl.getArgList().isEmpty()) throw new UsageException("unexpected arguments " + cl.getArgList());
        int seqLen = ModelArgs.intOption(cl, "seq-len", 256, 2);
        int maxWindows = ModelArgs.intOption(cl, "max-windows", 0, 1);
        Path textFile = Path.of(cl.getOptionValue("text"));
        Path modelDir = ModelArgs.modelDir(cl, "model");
        String text = ModelArgs.readText(textFile);
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(modelDir, arena);
            LlamaModel reference = cl.hasOption("reference") ? LlamaModel.load(ModelArgs.modelDir(cl, "reference"), arena) : null;
            Tokenizer tokenizer = Tokenizer.load(modelDir, model.config());
            int[] stream = tokenizer.encode(text, false);
            long t0 = System.nanoTime();
            Perplexity.Result r = Perplexity.evaluate(model, stream, seqLen, maxWindows, reference);
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
