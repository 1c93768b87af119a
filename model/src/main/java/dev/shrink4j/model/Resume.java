package dev.shrink4j.model;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.io.AbandonedOutputs;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.CheckpointWriter;
import dev.shrink4j.tensors.io.Json;
import dev.shrink4j.tensors.io.UnfinishedOutputs;
import dev.shrink4j.tensors.io.WriteFailure;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The resumable state of one compression run (docs/reliability.md "Resume"): the hidden sibling
 * {@code .OUT.resume} of the output directory holds
 * <pre>
 *   resume.json          the run's fingerprint: command, settings, input ({@link InputFingerprint}), calibration tokens
 *   calibration/         the calibration tokens and their record (self-generated ones are not generated again)
 *   STAGE-block-00007/   one finished block's results ({@link BlockCheckpoint})
 *   NAME/                one finished model-spanning step (gradient statistics, 2SSP stage 1, one greedy round)
 * </pre>
 * Every entry is a small checkpoint written by {@link CheckpointWriter} (hidden temporary directory,
 * verified, renamed into place) with its record in {@code entry.json}, so a kill leaves whole entries
 * only. A run whose fingerprint matches the one found continues from its entries; otherwise the
 * directory is removed and the reason said in one line. Lifecycle: {@link #open} → {@link #calibration}
 * → entries as the run goes → {@link #close}: any orderly end (success, failure, Ctrl-C) removes the
 * directory; kill -9, the OOM killer and power loss leave it for the next run of the same command.
 */
public final class Resume implements AutoCloseable {
    private static final int VERSION = 2; // 2: tensor bytes fingerprinted by CRC32C + CRC32 (InputFingerprint)
    private static final String MANIFEST = "resume.json";
    private static final String ENTRY_RECORD = "entry.json";
    private static final String CALIBRATION = "calibration";

    private final Path dir;
    private final Path out; // the output it belongs to, named in messages (the hidden directory is not the user's)
    private final Map<String, Object> manifest;
    private final InputFingerprint input;
    private final Consumer<String> notes;
    private boolean resumed;

    /** One entry: its record and its tensors (mapped into the arena it was read with). */
    public record Entry(Map<String, Object> record, Map<String, Tensor> tensors) {}

    private Resume(Path dir, Path out, Map<String, Object> manifest, InputFingerprint input, Consumer<String> notes, boolean resumed) {
        this.dir = dir;
        this.out = out;
        this.manifest = manifest;
        this.input = input;
        this.notes = notes;
        this.resumed = resumed;
    }

    /** The resume directory of output {@code out}: {@code .OUT.resume} beside it. */
    public static Path directoryOf(Path out) {
        Path target = out.toAbsolutePath().normalize();
        return target.resolveSibling("." + target.getFileName() + ".resume");
    }

    /**
     * Opens the resume state of writing {@code out} from {@code in}: continues an interrupted run with the
     * same command, settings and input, else starts over (said in one line to {@code notes}).
     *
     * @param settings   every option that can change the output, by name (e.g. {@code bits → 4}); flags map to ""
     * @param startOver  {@code --no-resume}: discard what an interrupted run left
     */
    public static Resume open(Path in, Path out, String command, Map<String, String> settings, boolean startOver, Consumer<String> notes) {
        Path dir = directoryOf(out);
        InputFingerprint fp = InputFingerprint.of(in);
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("version", VERSION);
        manifest.put("command", command);
        manifest.put("settings", new TreeMap<>(settings));
        manifest.put("input", Map.of("files", fp.files(), "rest", fp.rest(), "blocks", fp.blocks()));
        boolean resumed = false;
        if (Files.exists(dir)) {
            Path owner = dir.resolve(AbandonedOutputs.OWNER_FILE);
            if (Files.exists(owner) && !AbandonedOutputs.abandoned(dir)) {
                throw new ShrinkException(out + ": another shrink4j run (" + ownerOf(owner) + ") is writing this output; wait for it or choose another OUT");
            }
            String reason = startOver ? "--no-resume" : reasonToStartOver(dir, manifest, fp);
            if (reason == null) {
                resumed = true;
                Object calibration = readManifest(dir).get(CALIBRATION);
                if (calibration != null) manifest.put(CALIBRATION, calibration);
                notes.accept("note: resuming the interrupted run of this command from its finished work in " + dir);
            } else {
                notes.accept("note: starting over: " + reason + " (removed " + dir + ")");
                deleteTree(dir);
            }
        }
        Path parent = dir.getParent();
        try {
            Files.createDirectories(parent);
            if (!Files.isDirectory(parent)) throw new java.nio.file.NotDirectoryException(parent.toString());
            Files.createDirectories(dir);
            UnfinishedOutputs.add(dir);
            AbandonedOutputs.claim(dir);
        } catch (IOException e) {
            throw new ShrinkException(out.toAbsolutePath().normalize() + ": cannot create the output in " + parent + ": " + WriteFailure.describe(e), e);
        }
        Resume r = new Resume(dir, out.toAbsolutePath().normalize(), manifest, fp, notes, resumed);
        r.saveManifest();
        return r;
    }

    /** Why the state in {@code dir} cannot be continued by a run with {@code manifest}, or null when it can. */
    private static String reasonToStartOver(Path dir, Map<String, Object> manifest, InputFingerprint fp) {
        Map<String, Object> old;
        try {
            old = readManifest(dir);
        } catch (RuntimeException e) {
            return "the interrupted run left no readable " + MANIFEST;
        }
        if (!Objects.equals(String.valueOf(old.get("version")), String.valueOf(VERSION))) return "the interrupted run's state is from another shrink4j version";
        if (!Objects.equals(old.get("command"), manifest.get("command"))) return "the interrupted run was a " + old.get("command") + " run";
        String settings = settingsDifference(map(old.get("settings")), map(manifest.get("settings")));
        if (settings != null) return settings;
        Map<String, Object> in = map(old.get("input"));
        List<String> blocks = new ArrayList<>();
        if (in.get("blocks") instanceof List<?> l) l.forEach(b -> blocks.add(String.valueOf(b)));
        return fp.differenceFrom(new InputFingerprint(String.valueOf(in.get("files")), String.valueOf(in.get("rest")), blocks));
    }

    /** "--bits was 3 in the interrupted run, now 4" for the first option that differs, or null. */
    static String settingsDifference(Map<String, Object> before, Map<String, Object> now) {
        TreeSet<String> keys = new TreeSet<>(before.keySet());
        keys.addAll(now.keySet());
        for (String k : keys) {
            Object a = before.get(k), b = now.get(k);
            if (!Objects.equals(a == null ? null : String.valueOf(a), b == null ? null : String.valueOf(b))) {
                return "--" + k + " was " + describe(a) + " in the interrupted run, now " + describe(b);
            }
        }
        return null;
    }

    private static String describe(Object v) {
        return v == null ? "not given" : String.valueOf(v).isEmpty() ? "given" : String.valueOf(v);
    }

    /** Whether the state of an interrupted run is being continued. */
    public boolean resumed() {
        return resumed;
    }

    public Path directory() {
        return dir;
    }

    /** The input's fingerprint of block {@code b} (its tensors), recorded with each block entry. */
    String blockFingerprint(int b) {
        return b < input.blocks().size() ? input.blocks().get(b) : "";
    }

    /** A line for the run's progress (what was restored, what is recomputed). */
    public void note(String line) {
        notes.accept(line);
    }

    /** The block results of {@code stage} (e.g. "quantize"): see {@link BlockCheckpoint}. */
    public BlockCheckpoint blocks(String stage) {
        return new BlockCheckpoint(this, stage);
    }

    /**
     * The calibration tokens of the interrupted run, when it got that far: a run calibrating on the
     * model's own generations reuses them instead of generating them again (they depend only on the
     * input and the settings, both unchanged).
     */
    public Optional<Calibration> storedCalibration() {
        if (manifest.get(CALIBRATION) == null) return Optional.empty();
        try (Arena a = Arena.ofConfined()) {
            Optional<Entry> e = entry(CALIBRATION, a);
            if (e.isEmpty()) return Optional.empty();
            Tensor t = e.get().tensors().get("tokens");
            int samples = Math.toIntExact(t.shape().dim(0)), seqLen = Math.toIntExact(t.shape().dim(1));
            int[][] seqs = new int[samples][seqLen];
            for (int s = 0; s < samples; s++) {
                for (int i = 0; i < seqLen; i++) seqs[s][i] = t.segment().getAtIndex(Tensor.I32, (long) s * seqLen + i);
            }
            Map<String, Object> r = e.get().record();
            Calibration c = new Calibration(seqs, new Calibration.Record((String) r.get("file"), integer(r.get("samples")),
                    integer(r.get("seq_len")), number(r.get("seed")), number(r.get("text_tokens")), number(r.get("tokens"))));
            return InputFingerprint.tokens(seqs).equals(manifest.get(CALIBRATION)) ? Optional.of(c) : Optional.empty();
        }
    }

    /**
     * Records the run's calibration tokens. When the interrupted run calibrated on other tokens (a changed
     * --calib file), its entries are dropped and the run starts over, said in one line.
     */
    public void calibration(Calibration c) {
        String hash = InputFingerprint.tokens(c.sequences());
        Object before = manifest.get(CALIBRATION);
        if (hash.equals(before)) return;
        if (before != null) {
            notes.accept("note: starting over: the calibration tokens differ from the interrupted run's (removed its finished work in " + dir + ")");
            clearEntries();
            resumed = false;
        }
        int samples = c.sequences().length, seqLen = samples == 0 ? 0 : c.sequences()[0].length;
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(a, DType.I32, Shape.of(samples, seqLen));
            for (int s = 0; s < samples; s++) {
                for (int i = 0; i < seqLen; i++) t.segment().setAtIndex(Tensor.I32, (long) s * seqLen + i, c.sequences()[s][i]);
            }
            Calibration.Record r = c.record();
            Map<String, Object> rec = new LinkedHashMap<>();
            rec.put("file", r.file());
            rec.put("samples", r.samples());
            rec.put("seq_len", r.seqLen());
            rec.put("seed", r.seed());
            rec.put("text_tokens", r.textTokens());
            rec.put("tokens", r.tokens());
            write(CALIBRATION, samples == 0 ? Map.of() : Map.of("tokens", t), rec);
        }
        manifest.put(CALIBRATION, hash);
        saveManifest();
    }

    /** Whether entry {@code name} was written (by this run or the interrupted one). */
    public boolean has(String name) {
        return Files.isRegularFile(dir.resolve(name).resolve(ENTRY_RECORD));
    }

    /** Entry {@code name}, its tensors mapped into {@code arena}; empty when it was not written. */
    public Optional<Entry> entry(String name, Arena arena) {
        if (!has(name)) return Optional.empty();
        Path e = dir.resolve(name);
        try {
            Map<String, Object> record = map(Json.parse(Files.readString(e.resolve(ENTRY_RECORD), StandardCharsets.UTF_8)));
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            if (Files.exists(e.resolve(Checkpoint.SINGLE_FILE)) || Files.exists(e.resolve(Checkpoint.INDEX_FILE))) {
                Checkpoint ck = Checkpoint.open(e, arena);
                for (String n : ck.names()) tensors.put(n, ck.tensor(n));
            }
            return Optional.of(new Entry(record, tensors));
        } catch (IOException | RuntimeException x) {
            throw new ShrinkException("resume entry " + e + " is unreadable (" + x.getMessage() + "); run again with --no-resume", x);
        }
    }

    /** Writes entry {@code name} (tensors in the given order, the record as JSON) atomically. */
    public void write(String name, Map<String, Tensor> tensors, Map<String, Object> record) {
        try (CheckpointWriter w = CheckpointWriter.create(dir.resolve(name), CheckpointWriter.Options.defaults().withForce(true))) {
            tensors.forEach(w::add);
            w.writeFile(ENTRY_RECORD, Json.write(record, 0));
            w.commit();
        } catch (ShrinkException e) {
            // The writer names the hidden entry; the user knows OUT.
            Throwable cause = e;
            while (cause.getCause() != null && !(cause instanceof IOException)) cause = cause.getCause();
            throw new ShrinkException(out + ": cannot write (" + name + ", kept for resuming): "
                    + (cause instanceof IOException io ? WriteFailure.describe(io) : e.getMessage()), e);
        }
    }

    /** Removes every entry (the calibration's too); the manifest stays. */
    private void clearEntries() {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                if (Files.isDirectory(p)) deleteTree(p);
            }
        } catch (IOException e) {
            throw new ShrinkException(dir + ": cannot clear (" + e.getMessage() + ")", e);
        }
        manifest.remove(CALIBRATION);
    }

    private void saveManifest() {
        Path tmp = dir.resolve(MANIFEST + ".tmp");
        try {
            Files.writeString(tmp, Json.write(manifest, 2) + "\n");
            try {
                Files.move(tmp, dir.resolve(MANIFEST), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dir.resolve(MANIFEST), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new ShrinkException(out + ": cannot write (" + MANIFEST + ", kept for resuming): " + WriteFailure.describe(e), e);
        }
    }

    private static Map<String, Object> readManifest(Path dir) {
        try {
            return map(Json.parse(Files.readString(dir.resolve(MANIFEST), StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new ShrinkException(dir + ": cannot read " + MANIFEST, e);
        }
    }

    private static String ownerOf(Path ownerFile) {
        try {
            return "pid " + Files.readString(ownerFile).strip().split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "still running";
        }
    }

    /** Removes the directory: the run ended in order (committed, failed or interrupted with Ctrl-C). */
    @Override
    public void close() {
        try {
            deleteTree(dir);
        } catch (ShrinkException e) {
            // best effort: a directory we cannot remove is hidden, and the next run removes or continues it
        }
        UnfinishedOutputs.remove(dir);
    }

    /** A JSON object of a record, as a map; anything else is an unreadable record. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> map(Object o) {
        if (o instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw new ShrinkException("expected a JSON object, got " + o);
    }

    static int integer(Object o) {
        return Math.toIntExact(number(o));
    }

    static long number(Object o) {
        if (o instanceof Number n) return n.longValue();
        throw new ShrinkException("expected a number, got " + o);
    }

    /** A double as a JSON string, so NaN and infinities survive the round trip. */
    public static String real(double d) {
        return Double.toString(d);
    }

    public static double real(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.parseDouble(String.valueOf(o));
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new ShrinkException(root + ": cannot remove (" + e.getMessage() + ")", e);
        }
    }
}
