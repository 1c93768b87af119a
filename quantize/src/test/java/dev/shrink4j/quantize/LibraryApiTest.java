package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library example of docs/quantize.md, verbatim apart from the paths. */
class LibraryApiTest {
    @TempDir Path tmp;

    @Test
    void readmeExample() throws Exception {
        Path in = TestData.demoModel(), out = tmp.resolve("stories-gptq4");
        double kl;
        // --- docs/quantize.md "Library" ---
        try (Arena arena = Arena.ofShared()) {
            LlamaModel model = LlamaModel.load(in, arena);
            Tokenizer tok = Tokenizer.load(in, model.config());
            Calibration calib = Calibration.selfGenerated(model, tok, 8, 128, 0);
            QuantizeOptions options = QuantizeOptions.defaults(QuantMethod.GPTQ, 4).withGroupSize(32);
            Quantizer.Result result = new Quantizer(options, arena).run(model, calib, new Quantizer.Listener() {});
            QuantizedCheckpoint.write(in, result.weights(), OutputFormat.SHRINK4J, out, false, Map.of("method", "gptq"));

            LlamaModel quantized = LlamaModel.load(out, arena); // runs on the compressed kernels
            int[] text = tok.encode("Once upon a time, there was a little girl named Lily. She loved to play outside.", false);
            kl = Perplexity.evaluate(quantized, text, 16, 0, LlamaModel.load(in, arena)).kl();
        }
        // --- end ---
        assertTrue(kl > 0 && kl < 0.5, "KL " + kl);
        assertEquals(out, out.toRealPath());
    }
}
