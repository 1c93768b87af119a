package dev.shrink4j.model;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.Formats;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The finished blocks of one {@link BlockPipeline} run, kept in a {@link Resume} directory
 * (docs/reliability.md "Resume"). A block's entry holds the linears the method installed in it — a
 * {@link CompressedLinear}'s tensors and descriptor, or a {@link DenseLinear}'s weight, each with its
 * bias — and the method's own record ({@link BlockMethod#blockRecord}: report rows, totals), with the
 * fingerprint of the block's input tensors. Read back, the linears are bit for bit what was computed,
 * so installing them and propagating the calibration through them gives the next block the inputs
 * the interrupted run gave it.
 *
 * <pre>{@code
 * new BlockPipeline(model, options).withCheckpoint(resume.blocks("quantize")).run(calibration, method);
 * }</pre>
 */
public final class BlockCheckpoint {
    private final Resume resume;
    private final String stage;

    BlockCheckpoint(Resume resume, String stage) {
        this.resume = resume;
        this.stage = stage;
    }

    private String name(int layer) {
        return String.format(Locale.ROOT, "%s-block-%05d", stage, layer);
    }

    /**
     * Blocks [0, n) finished by the interrupted run, each recorded against the same input tensors; said
     * in one progress line when n > 0.
     */
    public int finishedBlocks(int layers) {
        int n = 0;
        try (Arena a = Arena.ofConfined()) {
            while (n < layers && resume.has(name(n))
                    && resume.entry(name(n), a).orElseThrow().record().get("input").equals(resume.blockFingerprint(n))) {
                n++;
            }
        }
        return n;
    }

    /** The progress line of a resumed pipeline: which blocks come from the interrupted run, how the next one gets its inputs. */
    void note(int finished, int layers, boolean recomputesInputs) {
        resume.note(String.format(Locale.ROOT, "resume: blocks 0–%d of %d from the interrupted run%s", finished - 1, layers,
                finished == layers ? "" : recomputesInputs
                        ? "; block " + finished + "'s inputs recomputed by running the calibration through them"
                        : "; the remaining blocks need no calibration inputs"));
    }

    /** Stores block {@code layer}: the linears of {@code compressed} that are not {@code original}'s, and the method's record. */
    public void write(int layer, Layer original, Layer compressed, Map<String, Object> methodRecord) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        List<Object> linears = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            for (Proj p : Proj.values()) {
                Linear lin = compressed.linear(p);
                if (lin == null || lin == original.linear(p)) continue;
                String module = p.module(layer);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("proj", p.name());
                row.put("module", module);
                if (lin instanceof CompressedLinear c) {
                    tensors.putAll(new java.util.TreeMap<>(c.compressed().toTensors(module)));
                    row.put("descriptor", c.compressed().descriptor());
                } else if (lin instanceof DenseLinear d) {
                    tensors.put(module + ".weight", d.weight(a));
                } else {
                    throw new IllegalStateException(module + ": cannot store a " + lin.getClass().getSimpleName() + " for resuming");
                }
                if (lin.bias() != null) {
                    tensors.put(module + ".bias", Tensor.ofFloats(a, Shape.of(lin.bias().length), lin.bias()));
                }
                linears.add(row);
            }
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("input", resume.blockFingerprint(layer));
            record.put("linears", linears);
            record.put("method", methodRecord);
            resume.write(name(layer), tensors, record);
        }
    }

    /**
     * Block {@code layer}'s stored linears, in {@link Proj} order (the order the pipeline's groups
     * produce them), with their tensors mapped into {@code into}, and the method's record.
     */
    public Restored read(int layer, Arena into) {
        Resume.Entry e = resume.entry(name(layer), into).orElseThrow(() -> new ShrinkException("resume: block " + layer + " was not stored"));
        Map<Proj, Linear> linears = new EnumMap<>(Proj.class);
        Object rows = e.record().get("linears");
        for (Object o : rows instanceof List<?> l ? l : List.of()) {
            Map<String, Object> row = Resume.map(o);
            Proj p = Proj.valueOf((String) row.get("proj"));
            String module = (String) row.get("module");
            Tensor b = e.tensors().get(module + ".bias");
            float[] bias = b == null ? null : b.toFloatArray();
            if (row.get("descriptor") != null) {
                CompressedWeight w = Formats.fromTensors(module, Resume.map(row.get("descriptor")), e.tensors());
                linears.put(p, new CompressedLinear(w, bias));
            } else {
                Tensor w = e.tensors().get(module + ".weight");
                if (w == null || w.dtype() == DType.I32) throw new ShrinkException("resume: block " + layer + " lacks " + module + ".weight");
                linears.put(p, new DenseLinear(w, bias));
            }
        }
        return new Restored(linears, Resume.map(e.record().getOrDefault("method", Map.of())));
    }

    /** A restored block: its linears and what the method recorded with them. */
    public record Restored(Map<Proj, Linear> linears, Map<String, Object> record) {}
}
