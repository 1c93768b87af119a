package dev.shrink4j.tensors.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.formats.GgufBlockWeight;
import dev.shrink4j.tensors.gguf.GgufFile;
import dev.shrink4j.tensors.gguf.GgufType;
import dev.shrink4j.tensors.gguf.GgufValue;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Fuzz target for the GGUF reader ({@link GgufFile#parse}, the same parser {@code open} runs on the
 * mapped file): the one documented failure is {@link ShrinkException} naming the file and item;
 * anything else that escapes is a finding. Every accepted file is read through: all metadata values
 * (nested arrays too), every tensor as a float view or as a block weight whose rows are dequantized and
 * multiplied with the matvec kernel (scalar and, when present, Panama), both of which must agree on
 * finite results. CI replays the seeds under {@code src/test/resources/.../GgufFuzzTestInputs/file/}
 * (valid files with every tensor type, written by {@code GgufWriter}) in regression mode;
 * {@code scripts/fuzz} runs it for a given time.
 */
class GgufFuzzTest {
    private static final Path NAME = Path.of("fuzz.gguf");
    /** Tensors with more elements than this are skipped after parsing (work bound, not a reader limit). */
    private static final long MAX_TOUCH = 1 << 16;

    @FuzzTest
    void file(byte[] bytes) {
        GgufFile g;
        try {
            g = GgufFile.parse(NAME, MemorySegment.ofArray(bytes));
        } catch (ShrinkException expected) {
            return; // the documented refusal
        }
        for (GgufValue v : g.metadata().values()) touch(v);
        for (GgufFile.TensorEntry e : g.tensors().values()) {
            if (e.numel() > MAX_TOUCH) continue;
            if (e.type() == GgufType.F32 || e.type() == GgufType.F16 || e.type() == GgufType.BF16) {
                var t = g.tensor(e.name());
                if (t.shape().numel() != e.numel()) throw new AssertionError("view of " + e.name() + " has " + t.shape().numel() + " elements, entry " + e.numel());
                float[] f = new float[(int) e.numel()];
                t.readFloats(0, f, 0, f.length);
            }
            GgufBlockWeight w = g.weight(e.name());
            float[] row = new float[w.dIn()];
            for (int j = 0; j < w.dOut(); j++) w.dequantizeRow(j, row, 0);
            float[] x = new float[w.dIn()];
            Arrays.fill(x, 1f);
            float[] ys = new float[w.dOut()];
            w.matvec(x, ys, dev.shrink4j.tensors.formats.FormatKernels.scalar());
            dev.shrink4j.tensors.formats.FormatKernels.panama().ifPresent(k -> {
                float[] yp = new float[w.dOut()];
                w.matvec(x, yp, k);
                for (int j = 0; j < yp.length; j++) {
                    boolean finite = Float.isFinite(ys[j]) && Float.isFinite(yp[j]);
                    if (finite && Math.abs(ys[j] - yp[j]) > 1e-3f * (1 + Math.abs(ys[j]))) {
                        throw new AssertionError(e.name() + " row " + j + ": scalar " + ys[j] + " vs panama " + yp[j]);
                    }
                }
            });
        }
    }

    private static void touch(GgufValue v) {
        if (v.type() == GgufValue.Type.ARRAY) {
            touchArray(v.asArray());
        } else if (v.type() == GgufValue.Type.STRING) {
            v.asString().length();
        } else if (v.type() == GgufValue.Type.FLOAT32 || v.type() == GgufValue.Type.FLOAT64) {
            v.asDouble();
        } else if (v.type() != GgufValue.Type.BOOL) {
            v.asLong();
        }
    }

    private static void touchArray(GgufValue.Array a) {
        for (Object o : a.values()) {
            if (o instanceof GgufValue.Array inner) touchArray(inner);
        }
    }
}
