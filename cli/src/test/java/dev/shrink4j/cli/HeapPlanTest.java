package dev.shrink4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shrink4j.tensors.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher's heap plan: sized from the model's shapes and the calibration, ordered by what methods keep. */
class HeapPlanTest {
    static final long MIB = 1 << 20;
    @TempDir Path tmp;

    private Path tinyLlamaShaped() throws Exception {
        Files.writeString(tmp.resolve("config.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2048, "intermediate_size": 5632,
                 "num_hidden_layers": 22, "num_attention_heads": 32, "num_key_value_heads": 4, "vocab_size": 32000,
                 "max_position_embeddings": 2048, "rms_norm_eps": 1e-5}""");
        return tmp;
    }

    private static long plan(String... args) {
        return HeapPlan.estimate(List.of(args));
    }

    @Test
    void tinyLlamaGptqFitsTheIssueBudget() throws Exception {
        String in = tinyLlamaShaped().toString();
        long gptq = plan("quantize", "--method", "gptq", "--samples", "16", "--seq-len", "512", in, "/tmp/out");
        long rtn = plan("quantize", "--method=rtn", "--calib", "random", "--samples", "16", "--seq-len", "512", in, "/tmp/out");
        // Data-free RTN (no --calib) holds no activations and runs no forward: the base + one linear's W, Ŵ, codes.
        assertEquals(384 * MIB + 12L * 5632 * 2048, plan("quantize", "--method", "rtn", in, "/tmp/out"));
        long guided = plan("quantize", "--samples", "16", "--seq-len", "512", in, "/tmp/out");
        // 384 MiB base + 20·5632² bytes for H, its fp64 factor and fp32 U; the activations are off-heap.
        assertEquals(384 * MIB + 20L * 5632 * 5632, gptq);
        assertTrue(gptq < 1280 * MIB, "heap + ~150 MiB outside it must stay under 1.5 GiB: " + gptq / MIB);
        assertTrue(rtn < gptq && gptq < guided, rtn / MIB + " " + gptq / MIB + " " + guided / MIB);
        // The default calibration (128 × 2048, 2 GiB of activations) lives off-heap: the heap does not grow with it.
        assertEquals(gptq, plan("quantize", "--method", "gptq", in, "/tmp/out"));
        // 2SSP's stage 1 holds a batch of up to 8 sequences' hidden and FFN activations on the heap.
        assertTrue(plan("prune", "--method", "2ssp", "--sparsity", "0.3", in, "/tmp/out") > plan("prune", "--method", "wanda", "--sparsity", "0.3", in, "/tmp/out"));
    }

    @Test
    void noPlanWithoutACheckpointOrForOtherCommands() throws Exception {
        assertEquals(0, plan());
        assertEquals(0, plan("quantize", "--method", "gptq", "/nonexistent", "/tmp/out"));
        assertEquals(0, plan("inspect", TestData.demoModel().toString()));
        assertEquals(0, plan("quantize", "--no-such-flag", TestData.demoModel().toString(), "/tmp/out")); // the run reports it
        assertTrue(plan("quantize", TestData.demoModel().toString(), "/tmp/out") < 512 * MIB);
    }
}
