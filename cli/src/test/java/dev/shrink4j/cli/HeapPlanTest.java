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
        // 384 MiB base + 20·5632² bytes for H, its fp64 factor and fp32 U + 9 bytes per weight of the largest
        // linear (W, its transposed copy, codes); the activations are off-heap.
        assertEquals(384 * MIB + 20L * 5632 * 5632 + 9L * 2048 * 5632, gptq);
        assertTrue(gptq < 1280 * MIB, "heap + ~150 MiB outside it must stay under 1.5 GiB: " + gptq / MIB);
        assertTrue(rtn < gptq && gptq < guided, rtn / MIB + " " + gptq / MIB + " " + guided / MIB);
        // The default calibration (128 × 2048, 2 GiB of activations) lives off-heap: the heap does not grow with it.
        assertEquals(gptq, plan("quantize", "--method", "gptq", in, "/tmp/out"));
        // 2SSP's stage 1 holds a batch of up to 8 sequences' hidden and FFN activations on the heap.
        assertTrue(plan("prune", "--method", "2ssp", "--sparsity", "0.3", in, "/tmp/out") > plan("prune", "--method", "wanda", "--sparsity", "0.3", in, "/tmp/out"));
    }

    @Test
    void pqiAndRequantArePlannedWithinTheScaleTarget() throws Exception {
        String in = tinyLlamaShaped().toString();
        String[] calib = {"--calib", "random", "--samples", "16", "--seq-len", "512"};
        long pqi = plan(concat(new String[] {"pqi", "--model", in, "--quantized", in, "--points", "4", "--scratch", tmp.toString()}, calib));
        long requantRtn = plan(concat(new String[] {"quantize", "--method", "requant", "--base", "rtn", in, "/tmp/out"}, calib));
        long requantSqueeze = plan(concat(new String[] {"quantize", "--method", "requant", "--base", "squeezellm", in, "/tmp/out"}, calib));
        long squeeze = plan(concat(new String[] {"quantize", "--method", "squeezellm", in, "/tmp/out"}, calib));
        // A gradient pass of 512 tokens, one block's gradients, a few copies of the largest linear: about 1 GiB.
        assertTrue(pqi > 640 * MIB && pqi < 1280 * MIB, "pqi heap " + pqi / MIB);
        // requant over rtn keeps no gradient statistics on the heap (its Fisher is mapped): the pqi pass bounds it.
        assertEquals(pqi, requantRtn);
        // over squeezellm, the base's own Fisher (4 bytes per weight) is on the heap, as for squeezellm alone.
        assertTrue(requantSqueeze >= squeeze && requantSqueeze - requantRtn > 4L * 900_000_000, requantSqueeze / MIB + " vs " + requantRtn / MIB);
        // --max-memory counts what is anonymous: pqi's accumulators without --scratch (2 × 4 bytes per weight).
        long mapped = total(concat(new String[] {"pqi", "--model", in, "--quantized", in, "--scratch", tmp.toString()}, calib));
        long anonymous = total(concat(new String[] {"pqi", "--model", in, "--quantized", in}, calib));
        assertTrue(anonymous - mapped > 8L * 900_000_000, mapped / MIB + " vs " + anonymous / MIB);
        assertTrue(total(concat(new String[] {"quantize", "--method", "requant", "--base", "rtn", in, "/tmp/out"}, calib)) < 2048 * MIB);
    }

    private static String[] concat(String[] a, String[] b) {
        return java.util.stream.Stream.concat(java.util.Arrays.stream(a), java.util.Arrays.stream(b)).toArray(String[]::new);
    }

    /** The plan's anonymous total, parsed as the run parses its command line. */
    private static long total(String... args) throws Exception {
        Command command = Main.command(args[0]);
        var cl = Main.parser().parse(Main.optionsOf(command), java.util.Arrays.copyOfRange(args, 1, args.length));
        return HeapPlan.plan(command.name(), cl).total();
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
