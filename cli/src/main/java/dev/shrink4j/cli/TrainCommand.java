package dev.shrink4j.cli;

import dev.shrink4j.model.CheckpointConfig;
import dev.shrink4j.model.CheckpointWeights;
import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.Parallel;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.train.AdamW;
import dev.shrink4j.train.Initialization;
import dev.shrink4j.train.LrSchedule;
import dev.shrink4j.train.Parameterization;
import dev.shrink4j.train.TrainCheckpoint;
import dev.shrink4j.train.TrainableModel;
import dev.shrink4j.train.Trainer;
import dev.shrink4j.train.TrainingThroughput;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code shrink4j train}: pre-training (dense, low-rank or LOST) on the model's backward pass (docs/train.md). */
final class TrainCommand implements Command {
    private static final List<String> PARAMETERIZATIONS = List.of("dense", "lowrank", "lost");

    @Override
    public String name() {
        return "train";
    }

    @Override
    public String summary() {
        return "train a Llama model from scratch or a checkpoint (dense, low-rank or LOST), AdamW, resumable";
    }

    @Override
    public String footer() {
        return """

                Batches: --batch windows of seq-len - 1 consecutive training tokens at offsets drawn from (seed, step),
                BOS prepended. Steps = ceil(tokens / (batch * seq-len)). AdamW with bias correction and decoupled
                weight decay (norm gains not decayed), linear warm-up then cosine decay to min-lr-ratio * lr, global
                gradient-norm clipping, F32 master weights. OUT gets checkpoint-<step>/ (HF layout + optimizer state)
                every --checkpoint-every steps and model/ at the end. A killed run continues with the same command
                plus --resume, bit for bit as if uninterrupted (same thread count). See docs/train.md.
                """;
    }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("config").hasArg().argName("FILE").desc("config.json of the model to train from random weights").build());
        o.addOption(Option.builder().longOpt("init").hasArg().argName("DIR").desc("continue from this dense checkpoint instead").build());
        o.addOption(Option.builder().longOpt("tokenizer").hasArg().argName("DIR").desc("directory with tokenizer.json (default: --init DIR or the config's directory)").build());
        o.addOption(Option.builder().longOpt("text").hasArgs().argName("FILE").desc("training text (UTF-8), repeatable").build());
        o.addOption(Option.builder().longOpt("eval-text").hasArg().argName("FILE").desc("held-out text (default: the last 5% of the training tokens, then not trained on)").build());
        o.addOption(Option.builder().longOpt("tokens").hasArg().argName("N").desc("training tokens (batch * seq-len per step)").build());
        o.addOption(Option.builder().longOpt("batch").hasArg().argName("B").desc("sequences per step (default 16)").build());
        o.addOption(Option.builder().longOpt("seq-len").hasArg().argName("T").desc("tokens per sequence incl. BOS (default 256)").build());
        o.addOption(Option.builder().longOpt("lr").hasArg().argName("X").desc("peak learning rate (default 1e-3)").build());
        o.addOption(Option.builder().longOpt("min-lr-ratio").hasArg().argName("X").desc("cosine floor as a fraction of lr (default 0.1)").build());
        o.addOption(Option.builder().longOpt("warmup").hasArg().argName("STEPS").desc("linear warm-up steps (default 1% of steps, at least 1)").build());
        o.addOption(Option.builder().longOpt("weight-decay").hasArg().argName("X").desc("AdamW decoupled weight decay (default 0.1)").build());
        o.addOption(Option.builder().longOpt("clip").hasArg().argName("X").desc("global gradient-norm limit, 0 for none (default 1.0)").build());
        o.addOption(Option.builder().longOpt("seed").hasArg().argName("S").desc("seed of the initial weights and the data order (default 0)").build());
        o.addOption(Option.builder().longOpt("eval-every").hasArg().argName("STEPS").desc("held-out loss every this many steps (default 100; 0: at the end)").build());
        o.addOption(Option.builder().longOpt("eval-windows").hasArg().argName("N").desc("held-out windows scored each time (default 64; 0: all)").build());
        o.addOption(Option.builder().longOpt("checkpoint-every").hasArg().argName("STEPS").desc("checkpoint interval (default 100; 0: none)").build());
        o.addOption(Option.builder().longOpt("keep").hasArg().argName("K").desc("checkpoints kept (default 2)").build());
        o.addOption(Option.builder().longOpt("parameterization").hasArg().argName("P").desc("dense (default), lowrank or lost").build());
        o.addOption(Option.builder().longOpt("params-ratio").hasArg().argName("P").desc("lowrank/lost: values per block linear as a fraction of d_in*d_out (default 0.5)").build());
        o.addOption(Option.builder().longOpt("rho").hasArg().argName("X").desc("lost: share of input channels in the sparse part (default 0.05)").build());
        o.addOption(Option.builder().longOpt("gamma").hasArg().argName("X").desc("lost: blend of the low-rank part (default 0.5)").build());
        o.addOption(Option.builder().longOpt("out").hasArg().argName("DIR").desc("run directory (checkpoints, final model)").build());
        o.addOption(Option.builder().longOpt("resume").desc("continue from the newest checkpoint in --out").build());
        o.addOption(Option.builder().longOpt("force").desc("replace --out if it exists").build());
        o.addOption(Option.builder().longOpt("quiet").desc("no progress on stderr").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, Console console) throws IOException {
        Args args = new Args(cl);
        args.positionals();
        if (cl.hasOption("config") == cl.hasOption("init")) throw new UsageException("give exactly one of --config FILE and --init DIR");
        Path out = Path.of(args.required("out", "DIR"));
        boolean resume = args.has("resume");
        if (resume && args.has("force")) throw new UsageException("--resume and --force exclude each other");
        if (Files.exists(out) && !resume && !args.has("force")) {
            throw new UsageException("--out " + out + " already exists (add --resume to continue it or --force to replace it)");
        }
        List<String> texts = args.values("text");
        if (texts.isEmpty()) throw new UsageException("--text is required, e.g. --text train.txt");
        long tokens = args.longValue("tokens", -1);
        if (!args.has("tokens")) throw new UsageException("--tokens is required, e.g. --tokens 1000000");
        if (tokens < 1) throw new UsageException("--tokens must be at least 1, got " + tokens);
        int batch = args.integer("batch", 16, 1);
        int seqLen = args.integer("seq-len", 256, 2);
        double lr = args.number("lr", 1e-3, Double.MIN_VALUE, 1);
        double minLr = args.number("min-lr-ratio", 0.1, 0, 1);
        double wd = args.number("weight-decay", 0.1, 0, 10);
        double clip = args.number("clip", 1.0, 0, Double.MAX_VALUE);
        long seed = args.longValue("seed", 0);
        int evalEvery = args.integer("eval-every", 100, 0);
        int evalWindows = args.integer("eval-windows", 64, 0);
        int ckptEvery = args.integer("checkpoint-every", 100, 0);
        int keep = args.integer("keep", 2, 1);
        Parameterization p = Parameterization.valueOf(args.choice("parameterization", "dense", PARAMETERIZATIONS).toUpperCase(Locale.ROOT));
        double ratio = args.fraction("params-ratio", 0.5, 0, true, 1, false);
        double rho = args.fraction("rho", 0.05, 0, false, 1, true);
        double gamma = args.fraction("gamma", 0.5, 0, true, 1, false);
        if (p == Parameterization.DENSE) {
            for (String f : List.of("params-ratio", "rho", "gamma")) {
                if (args.has(f)) throw new UsageException("--" + f + " applies to --parameterization lowrank or lost, not dense");
            }
        }
        long perStep = (long) batch * seqLen;
        long steps = (tokens + perStep - 1) / perStep;
        long warmup = args.has("warmup") ? args.longValue("warmup", 0) : Math.max(1, steps / 100);
        if (warmup < 0 || warmup >= steps && steps > 1) throw new UsageException("--warmup must be in [0, " + steps + ") steps, got " + warmup);

        Map<String, Object> configJson;
        Path initDir = null;
        Path tokenizerDir;
        if (cl.hasOption("config")) {
            Path file = Path.of(cl.getOptionValue("config"));
            configJson = readConfig(file);
            tokenizerDir = args.has("tokenizer") ? Args.inputDir("--tokenizer", Path.of(cl.getOptionValue("tokenizer")))
                    : file.toAbsolutePath().getParent();
        } else {
            initDir = args.modelDir("init");
            configJson = CheckpointConfig.read(initDir);
            tokenizerDir = args.has("tokenizer") ? Args.inputDir("--tokenizer", Path.of(cl.getOptionValue("tokenizer"))) : initDir;
        }
        ModelConfig config = ModelConfig.parse(configJson, cl.hasOption("config") ? cl.getOptionValue("config") : initDir + "/config.json");
        if (seqLen > config.maxPositions()) {
            throw new UsageException("--seq-len " + seqLen + " exceeds the model's context of " + config.maxPositions() + " tokens (max_position_embeddings)");
        }
        Tokenizer tokenizer = Tokenizer.load(tokenizerDir, config);
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new ShrinkException("tokenizer in " + tokenizerDir + " has " + tokenizer.vocabSize() + " tokens, the config's vocab_size is " + config.vocabSize());
        }
        int[] train = encode(tokenizer, texts);
        int[] heldOut;
        if (args.has("eval-text")) {
            heldOut = tokenizer.encode(args.text("eval-text"), false);
        } else {
            int cut = train.length - train.length / 20;
            heldOut = Arrays.copyOfRange(train, cut, train.length);
            train = Arrays.copyOf(train, cut);
        }
        int window = config.bosTokenId() >= 0 ? seqLen - 1 : seqLen;
        if (train.length < (long) batch * window) {
            throw new ShrinkException("--text " + String.join(" ", texts) + ": " + train.length + " training tokens, fewer than one batch of "
                    + batch + " × " + window + " (lower --batch or --seq-len, or give more text)");
        }
        if (heldOut.length < window) {
            throw new ShrinkException("held-out text: " + heldOut.length + " tokens, fewer than one window of " + window);
        }

        Trainer.Options opts = new Trainer.Options(steps, batch, seqLen, new LrSchedule(lr, warmup, steps, minLr),
                new AdamW(0.9, 0.95, 1e-8, wd), clip, seed, evalEvery, evalWindows, ckptEvery, keep);
        Initialization.Factoring factoring = new Initialization.Factoring(p, ratio, rho, gamma);
        TrainCheckpoint.Restored restored = null;
        Path latest = resume ? TrainCheckpoint.latest(out) : null;
        if (latest != null) restored = TrainCheckpoint.read(latest);
        if (args.has("force") && Files.exists(out)) deleteTree(out);
        Files.createDirectories(out);
        TrainableModel start = null;
        Arena arena = Arena.ofShared();
        try {
            if (restored == null) {
                start = initDir == null ? Initialization.random(configJson, seed, factoring)
                        : Initialization.pretrained(configJson, CheckpointWeights.open(initDir, arena), factoring);
            }
            TrainableModel described = restored != null ? restored.model() : start;
            boolean quiet = args.has("quiet");
            console.err().printf(Locale.ROOT, "%s%s: %,d parameters (%,d in block linears), %,d training tokens, %,d held-out; %d steps of %d x %d; %d threads%n",
                    restored != null ? "resuming " + latest + " at step " + restored.state().step() + ", " : "", p.cliName(),
                    described.parameterCount(), described.linearParameterCount(), train.length, heldOut.length, steps, batch, seqLen, Parallel.threads());
            Trainer trainer = new Trainer(opts, p);
            ProgressListener listener = new ProgressListener(console, quiet);
            Trainer.Result r = trainer.run(start, restored, train, heldOut, out, tokenizerDir, listener);
            List<Map<String, Object>> h = r.state().history();
            Object nll = h.get(h.size() - 1).get("heldout_nll");
            double heldNll = nll instanceof Number n ? n.doubleValue() : trainer.heldOutLoss(r.trained(), heldOut);
            TrainingThroughput tp = TrainingThroughput.measure(r.trained(), listener.reports(), batch, seqLen, opts.seed());
            console.out().printf(Locale.ROOT, "trained %s: %,d steps, %,d tokens in %.1f s; held-out NLL %.4f nats/token (ppl %.3f), last train loss %.4f%n",
                    p.cliName(), r.state().step(), r.state().tokens(), r.state().seconds(), heldNll, Math.exp(heldNll),
                    ((Number) h.get(h.size() - 1).get("loss")).doubleValue());
            console.out().println(tp.summary());
            console.out().printf("model: %s%n", r.model());
        } finally {
            arena.close();
        }
        return 0;
    }

    private static int[] encode(Tokenizer tokenizer, List<String> files) {
        List<int[]> parts = new ArrayList<>();
        long n = 0;
        for (String f : files) {
            int[] ids = tokenizer.encode(Args.readText("--text", Path.of(f)), false);
            parts.add(ids);
            n += ids.length;
        }
        int[] all = new int[Math.toIntExact(n)];
        int o = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, all, o, p.length);
            o += p.length;
        }
        return all;
    }

    private static Map<String, Object> readConfig(Path file) {
        if (!Files.isRegularFile(file)) throw new ShrinkException("--config " + file + ": no such file");
        try {
            if (Json.parse(Files.readString(file)) instanceof Map<?, ?> m) {
                @SuppressWarnings("unchecked")
                Map<String, Object> map = new java.util.LinkedHashMap<>((Map<String, Object>) m);
                return map;
            }
        } catch (IOException | Json.JsonException e) {
            throw new ShrinkException("--config " + file + ": not valid JSON (" + e.getMessage() + ")");
        }
        throw new ShrinkException("--config " + file + ": not a JSON object");
    }

    private static void deleteTree(Path p) throws IOException {
        try (var w = Files.walk(p)) {
            for (Path q : w.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

    /** Progress lines on stderr (at most one every 5 s, plus every held-out loss and checkpoint). */
    private static final class ProgressListener implements Trainer.Listener {
        private final Console console;
        private final boolean quiet;
        private final List<Trainer.StepReport> reports = new ArrayList<>();
        private long lastPrint;
        private double lossSum;
        private int lossCount;

        ProgressListener(Console console, boolean quiet) {
            this.console = console;
            this.quiet = quiet;
        }

        List<Trainer.StepReport> reports() {
            return reports;
        }

        @Override
        public void step(Trainer.StepReport r) {
            reports.add(r);
            lossSum += r.loss();
            lossCount++;
            long now = System.nanoTime();
            if (quiet || (now - lastPrint < 5_000_000_000L && r.step() != r.steps() && r.step() != 1)) return;
            lastPrint = now;
            int recent = Math.min(reports.size(), 20);
            double sec = 0;
            for (int i = reports.size() - recent; i < reports.size(); i++) sec += reports.get(i).stepSeconds();
            double perStep = sec / recent;
            long tokensPerStep = r.tokens() / r.step();
            console.err().printf(Locale.ROOT, "step %d/%d  loss %.4f  lr %.2e  |g| %.3f  %.0f tokens/s  ETA %s  (%.0f s)%n", r.step(), r.steps(),
                    lossSum / lossCount, r.lr(), r.gradNorm(), tokensPerStep / perStep, eta(perStep * (r.steps() - r.step())), r.elapsedSeconds());
            lossSum = 0;
            lossCount = 0;
        }

        @Override
        public void heldOut(long step, long tokens, double nll) {
            if (!quiet) console.err().printf(Locale.ROOT, "step %d: held-out NLL %.4f (ppl %.3f) after %,d tokens%n", step, nll, Math.exp(nll), tokens);
        }

        @Override
        public void checkpoint(long step, Path dir) {
            if (!quiet) console.err().printf("step %d: checkpoint %s%n", step, dir);
        }

        private static String eta(double s) {
            return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", (long) s / 3600, (long) s % 3600 / 60)
                    : String.format(Locale.ROOT, "%dm%02ds", (long) s / 60, (long) s % 60);
        }
    }
}
