package dev.shrink4j.cli;

import dev.shrink4j.model.Generator;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Sampler;
import dev.shrink4j.model.Tokenizer;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code shrink4j generate}: greedy or nucleus-sampled continuation with a KV cache. */
final class GenerateCommand implements Command {
    @Override
    public String name() {
        return "generate";
    }

    @Override
    public String summary() {
        return "continue a prompt with a model (greedy by default)";
    }


    @Override
    public String footer() {
        return "\nThe prompt is encoded with BOS first; without --prompt the model starts from BOS alone. Generation"
                + "\nstops at EOS, after --max-tokens tokens or at the context length. --temperature 0 is greedy.";
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("model").hasArg().argName("DIR").required().desc("model directory or a llama .gguf file (read in place)").build());
        o.addOption(Option.builder().longOpt("prompt").hasArg().argName("TEXT").desc("text to continue (default: none, BOS only)").build());
        o.addOption(Option.builder().longOpt("max-tokens").hasArg().argName("N").desc("new tokens at most (default 256)").build());
        o.addOption(Option.builder().longOpt("temperature").hasArg().argName("t").desc("sampling temperature (default 0 = greedy)").build());
        o.addOption(Option.builder().longOpt("top-p").hasArg().argName("p").desc("nucleus sampling mass (default 0.9)").build());
        o.addOption(Option.builder().longOpt("seed").hasArg().argName("s").desc("sampling seed (default 0)").build());
        o.addOption(Option.builder().longOpt("quiet").desc("no timing line (tokens/s) on stderr").build());
        o.addOption(Args.activationsOption());
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) {
        Args args = new Args(cl);
        args.positionals();
        dev.shrink4j.tensors.formats.ActivationPrecision activations = args.activations();
        int maxTokens = args.integer("max-tokens", 256, 1);
        double temperature = args.number("temperature", 0, 0, 100);
        double topP = args.number("top-p", 0.9, 1e-9, 1);
        long seed = args.longValue("seed", 0);
        Path dir = args.modelInput("model");
        String prompt = cl.getOptionValue("prompt", "");
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(dir, arena);
            model.setActivations(activations);
            Tokenizer tokenizer = Tokenizer.load(dir, model.config());
            int[] ids = tokenizer.encode(prompt, true);
            if (ids.length == 0) ids = new int[] {model.config().bosTokenId()};
            Sampler sampler = temperature == 0 ? Sampler.greedy() : Sampler.of(temperature, topP, seed);
            List<Integer> all = new ArrayList<>();
            for (int id : ids) all.add(id);
            String[] printed = {tokenizer.decode(ids)};
            console.out().print(printed[0]);
            console.out().flush();
            long[] firstToken = {0};
            long t0 = System.nanoTime();
            int[] generated = new Generator(model).generate(ids, maxTokens, sampler, token -> {
                if (firstToken[0] == 0) firstToken[0] = System.nanoTime();
                all.add(token);
                String text = tokenizer.decode(all.stream().mapToInt(Integer::intValue).toArray());
                // Print only complete characters: a byte-fallback sequence may still be open.
                if (text.startsWith(printed[0]) && !text.endsWith("\uFFFD")) {
                    console.out().print(text.substring(printed[0].length()));
                    console.out().flush();
                    printed[0] = text;
                }
            });
            String text = tokenizer.decode(all.stream().mapToInt(Integer::intValue).toArray());
            if (text.startsWith(printed[0])) console.out().print(text.substring(printed[0].length()));
            console.out().println();
            long t1 = System.nanoTime();
            if (!args.has("quiet")) {
                // Prompt processing (up to the first token) and decoding separately, as llama.cpp reports them.
                double promptSeconds = ((firstToken[0] == 0 ? t1 : firstToken[0]) - t0) / 1e9;
                double decode = (t1 - (firstToken[0] == 0 ? t1 : firstToken[0])) / 1e9;
                int decoded = Math.max(0, generated.length - 1);
                console.err().printf(Locale.ROOT, "[%d prompt tokens in %.3f s; %d tokens generated, %.1f tokens/s after the first]%n",
                        ids.length, promptSeconds, generated.length, decoded == 0 || decode == 0 ? 0.0 : decoded / decode);
            }
        }
        return 0;
    }
}
