package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.testing.TestData;
import java.lang.foreign.Arena;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** End to end on the embedded demo model (stories260K): calibrate, quantize every linear, evaluate. */
class QuantizerTest {
    private static final String TEXT = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big red ball. She ran to get it, but a dog got it first. Lily was sad. "
            + "Her mom said, \"Let's share with the dog.\" They played together and had fun all day. ";

    private static int[] stream(Tokenizer tok) {
        return tok.encode(TEXT.repeat(6), false);
    }

    private static Perplexity.Result evalQuantized(QuantizeOptions o, Quantizer.Result[] out) {
        return evalQuantized(o, out, r -> {});
    }

    private static Perplexity.Result evalQuantized(QuantizeOptions o, Quantizer.Result[] out,
                                                   java.util.function.Consumer<Quantizer.Result> whileOpen) {
        try (Arena arena = Arena.ofShared()) { // the kernels read the compressed tensors from worker threads
            LlamaModel reference = LlamaModel.load(TestData.demoModel(), arena);
            LlamaModel model = LlamaModel.load(TestData.demoModel(), arena);
            Tokenizer tok = Tokenizer.load(TestData.demoModel(), model.config());
            int[] stream = stream(tok);
            Calibration calib = Calibration.fromTokens(stream, "test", model.config(), 8, 64, 1);
            out[0] = new Quantizer(o, arena).run(model, calib, new Quantizer.Listener() {});
            whileOpen.accept(out[0]);
            return Perplexity.evaluate(model, stream, 64, 0, reference);
        }
    }

    @Test
    void gptqBeatsRtnAtThreeBitsOnEveryLayerObjectiveAndEndToEnd() {
        Quantizer.Result[] rtnOut = new Quantizer.Result[1], gptqOut = new Quantizer.Result[1];
        Perplexity.Result rtn = evalQuantized(QuantizeOptions.defaults(QuantMethod.RTN, 3).withGroupSize(32), rtnOut);
        Perplexity.Result gptq = evalQuantized(QuantizeOptions.defaults(QuantMethod.GPTQ, 3).withGroupSize(32), gptqOut);
        assertEquals(35, gptqOut[0].weights().size()); // 5 blocks × 7 linears
        for (Quantizer.LayerReport r : gptqOut[0].layers()) {
            assertTrue(r.objectiveAfter() <= r.objectiveInit() * 1.0001, r.module() + ": " + r.objectiveAfter() + " vs RTN " + r.objectiveInit());
        }
        assertTrue(gptq.kl() < rtn.kl(), "KL gptq " + gptq.kl() + " rtn " + rtn.kl());
        assertTrue(gptq.kl() > 0);
        // 3-bit codes, F16 scale + 3-bit zero per 32 weights = 3.59; down_proj's d_in = 172 adds a ragged group.
        double bits = gptqOut[0].totalBitsPerWeight();
        assertTrue(bits > 3 + (16.0 + 3) / 32 && bits < 3.7, "bits " + bits);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = QuantMethod.class, names = {"SQUEEZELLM", "LNQ", "GUIDEDQUANT", "GUIDED_GPTQ"})
    void gradientMethodsRunEndToEndAndImproveTheirStart(QuantMethod method) {
        Quantizer.Result[] out = new Quantizer.Result[1];
        Perplexity.Result r = evalQuantized(QuantizeOptions.defaults(method, 3).withGroupSize(32), out);
        assertTrue(r.kl() > 0 && r.kl() < 1, method + " KL " + r.kl());
        assertEquals(35, out[0].weights().size());
        for (Quantizer.LayerReport l : out[0].layers()) {
            // LNQ's f after fp16 rounding of the codebook may exceed the fp64 optimum by rounding only.
            assertTrue(l.objectiveAfter() <= l.objectiveInit() * 1.01 + 1e-12, l.module() + " " + l.objectiveAfter() + " > " + l.objectiveInit());
        }
    }

    @Test
    void kernelsComputeTheDequantizedWeights() {
        Quantizer.Result[] out = new Quantizer.Result[1];
        evalQuantized(QuantizeOptions.defaults(QuantMethod.GPTQ, 4).withGroupSize(32), out,
                r -> checkKernel(r.weights().get("model.layers.0.mlp.down_proj")));
    }

    private static void checkKernel(CompressedWeight w) {
        float[] x = new float[w.dIn()];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i * 0.37);
        float[] y = new float[w.dOut()];
        w.matvec(x, y);
        float[] row = new float[w.dIn()];
        for (int j = 0; j < w.dOut(); j++) {
            w.dequantizeRow(j, row, 0);
            double s = 0;
            for (int i = 0; i < row.length; i++) s += (double) row[i] * x[i];
            assertEquals(s, y[j], 1e-4 * (1 + Math.abs(s)), "row " + j + " " + Arrays.toString(Arrays.copyOf(y, 3)));
        }
    }
}
