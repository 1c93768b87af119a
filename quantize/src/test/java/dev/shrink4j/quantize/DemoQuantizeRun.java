package dev.shrink4j.quantize;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.model.testing.CountingLinear;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One quantization of the demo model on a fixed text (4 × 64 tokens), optionally with --stats-cache:
 * its stored tensors (copied out of the arena), the stages it announced, and the block forwards it ran.
 */
record DemoQuantizeRun(Map<String, byte[]> tensors, List<String> stages, int forwards) {
    private static final String TEXT = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big red ball. She ran to get it, but a dog got it first. Lily was sad. ";

    static DemoQuantizeRun of(QuantizeOptions o, Path cache) {
        return of(o, cache, null);
    }

    /** As above, resumable through {@code resume} (null: not). */
    static DemoQuantizeRun of(QuantizeOptions o, Path cache, dev.shrink4j.model.Resume resume) {
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            AtomicInteger forwards = new AtomicInteger();
            for (int l = 0; l < model.numLayers(); l++) {
                for (Proj p : Proj.values()) {
                    Linear lin = model.layer(l).linear(p);
                    if (lin != null) model.setLayer(model.layer(l).with(p, new CountingLinear(lin, forwards)));
                }
            }
            Tokenizer tok = Tokenizer.load(TestData.demoModel(), model.config());
            Calibration calib = Calibration.fromTokens(tok.encode(TEXT.repeat(8), false), "test", model.config(), 4, 64, 1);
            Quantizer q = new Quantizer(o, arena);
            if (cache != null) q.withStatisticsCache(cache);
            if (resume != null) q.withResume(resume);
            List<String> stages = new ArrayList<>();
            Quantizer.Result r = q.run(model, calib, new Quantizer.Listener() {
                @Override
                public void stage(String name, int total) {
                    stages.add(name);
                }
            });
            Map<String, byte[]> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, CompressedWeight> e : r.weights().entrySet()) {
                e.getValue().toTensors(e.getKey()).forEach((name, t) -> tensors.put(name, t.segment().toArray(ValueLayout.JAVA_BYTE)));
            }
            return new DemoQuantizeRun(tensors, stages, forwards.get());
        }
    }

    /** The first tensor whose bytes differ from {@code other}'s (or the name sets when they differ); null when all are equal. */
    String firstDifference(DemoQuantizeRun other) {
        if (!tensors.keySet().equals(other.tensors.keySet())) return "tensor names " + tensors.keySet() + " vs " + other.tensors.keySet();
        for (String name : tensors.keySet()) {
            if (java.util.Arrays.mismatch(tensors.get(name), other.tensors.get(name)) != -1) return name;
        }
        return null;
    }
}
