package dev.shrink4j.cli;

import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.model.Synthetic;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code shrink4j synth}: a random-weight checkpoint with the shapes of a real model. */
final class SynthCommand implements Command {
    @Override
    public String name() {
        return "synth";
    }

    @Override
    public String summary() {
        return "write a random-weight checkpoint with real shapes (benchmarks, scale tests)";
    }

    @Override
    public String arguments() {
        return "OUT";
    }

    @Override
    public String footer() {
        return "\nPresets: " + String.join(", ", Synthetic.PRESETS) + ". With --config the file's keys are used as given."
                + "\nWeights are N(0, initializer_range²) (0.02 unless the config says otherwise), norms 1; each tensor"
                + "\nis drawn from its own seed, so the output depends only on --seed. No tokenizer is written.";
    }

    @Override
    public boolean computes() {
        return false;
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("preset").hasArg().argName("NAME").desc("architecture preset").build());
        o.addOption(Option.builder().longOpt("config").hasArg().argName("FILE").desc("a config.json to use instead of a preset").build());
        o.addOption(Option.builder().longOpt("dtype").hasArg().argName("T").desc("bf16 (default), f16 or f32").build());
        o.addOption(Option.builder().longOpt("layers").hasArg().argName("K").desc("keep only the first K layers").build());
        o.addOption(Option.builder().longOpt("seed").hasArg().argName("S").required().desc("random seed").build());
        o.addOption(Option.builder().longOpt("shard-size").hasArg().argName("MiB").desc("maximum shard size in MiB (default 2048)").build());
        o.addOption(Option.builder().longOpt("force").desc("replace OUT if it exists").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) throws IOException {
        Args args = new Args(cl);
        String outDir = args.positionals("OUT").get(0);
        if (java.nio.file.Files.exists(Path.of(outDir)) && !args.has("force")) {
            throw new UsageException("OUT " + outDir + " already exists (add --force to replace it)");
        }
        if (cl.hasOption("preset") == cl.hasOption("config")) throw new UsageException("give exactly one of --preset and --config");
        Map<String, Object> config;
        if (cl.hasOption("preset")) {
            String name = args.choice("preset", null, Synthetic.PRESETS);
            config = Synthetic.preset(name);
        } else {
            Path file = Path.of(cl.getOptionValue("config"));
            if (!Files.isRegularFile(file)) throw new ShrinkException("--config " + file + ": no such file");
            Object node;
            try {
                node = Json.parse(Files.readString(file));
            } catch (IOException | Json.JsonException e) {
                throw new ShrinkException("--config " + file + ": not valid JSON (" + e.getMessage() + ")");
            }
            if (!(node instanceof Map<?, ?> obj)) throw new ShrinkException("--config " + file + ": not a JSON object");
            @SuppressWarnings("unchecked")
            Map<String, Object> read = (Map<String, Object>) obj;
            config = read;
        }
        if (cl.hasOption("layers")) {
            int k = args.integer("layers", 0, 1);
            int total = config.get("num_hidden_layers") instanceof Number n ? n.intValue() : 0;
            if (k > total) throw new UsageException("--layers " + k + " exceeds the model's " + total + " layers");
            config.put("num_hidden_layers", k);
        }
        DType dtype = switch (args.choice("dtype", "bf16", List.of("bf16", "f16", "f32"))) {
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            default -> DType.F32;
        };
        long seed = args.longValue("seed", 0);
        long shardMiB = args.integer("shard-size", 2048, 1);
        ModelConfig parsed = ModelConfig.parse(config, cl.hasOption("config") ? cl.getOptionValue("config") : "preset");
        long params = Synthetic.tensorShapes(parsed).values().stream().mapToLong(s -> {
            long n = 1;
            for (long d : s) n *= d;
            return n;
        }).sum();
        Path out = Synthetic.write(config, dtype, seed, Path.of(outDir), shardMiB << 20, cl.hasOption("force"));
        console.out().printf("wrote %s: %s, %,d parameters, %s, seed %d%n", out, parsed, params, dtype, seed);
        return 0;
    }
}
