package dev.shrink4j.model;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Parallel;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.ActivationPrecision;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.Formats;
import dev.shrink4j.tensors.formats.Int8Activations;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.util.AbstractMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A linear layer over a compressed weight ({@link CompressedWeight}: uniform/LUT quantized, sparse,
 * low-rank, …). The forward pass runs the format's own matmul, rows split across the pool; the
 * backward pass widens Ŵ to F32 for the duration of the call.
 */
public final class CompressedLinear implements Linear {
    /** Rows per parallel chunk of the format's (single-threaded) matmul. */
    private static final int ROWS_PER_CHUNK = 16;

    private final CompressedWeight weight; // (d_out, d_in)
    private final float[] bias; // (d_out) or null
    private final boolean int8; // activations quantized to int8 per block of 32

    public CompressedLinear(CompressedWeight weight, float[] bias) {
        this(weight, bias, ActivationPrecision.F32);
    }

    /**
     * With {@link ActivationPrecision#INT8}, formats that support it ({@link ActivationPrecision#int8Supported})
     * quantize each input row to int8 blocks of 32 and run integer block dots; others keep F32.
     */
    public CompressedLinear(CompressedWeight weight, float[] bias, ActivationPrecision activations) {
        this.weight = weight;
        this.bias = bias;
        this.int8 = activations == ActivationPrecision.INT8 && ActivationPrecision.int8Supported(weight);
    }

    /** This linear with its activations in {@code p} (where the format supports it). */
    public CompressedLinear withActivations(ActivationPrecision p) {
        return new CompressedLinear(weight, bias, p);
    }

    /** What the forward pass multiplies the weight with. */
    public ActivationPrecision activations() {
        return int8 ? ActivationPrecision.INT8 : ActivationPrecision.F32;
    }

    /**
     * Reads module {@code module} from {@code source} given its {@code shrink4j.tensors} entry; the
     * {@link LlamaModel.CompressedLinearLoader} used when a checkpoint names compressed tensors.
     */
    public static Linear load(String module, Map<String, Object> format, WeightSource source, int dOut, int dIn) {
        CompressedWeight w = Formats.fromTensors(module, format, view(source));
        if (w.dOut() != dOut || w.dIn() != dIn) {
            throw new ShrinkException(module + ": compressed weight is (" + w.dOut() + ", " + w.dIn() + "), expected (" + dOut + ", " + dIn
                    + ") from config.json");
        }
        float[] bias = source.contains(module + ".bias") ? source.tensor(module + ".bias").toFloatArray() : null;
        return new CompressedLinear(w, bias);
    }

    /** The source as a name → tensor map, looked up lazily. */
    private static Map<String, Tensor> view(WeightSource source) {
        return new AbstractMap<>() {
            @Override
            public Tensor get(Object key) {
                return key instanceof String s && source.contains(s) ? source.tensor(s) : null;
            }

            @Override
            public boolean containsKey(Object key) {
                return key instanceof String s && source.contains(s);
            }

            @Override
            public Set<Entry<String, Tensor>> entrySet() {
                Map<String, Tensor> all = new LinkedHashMap<>();
                for (String n : source.names()) all.put(n, source.tensor(n));
                return all.entrySet();
            }
        };
    }

    public CompressedWeight compressed() {
        return weight;
    }

    @Override
    public int inFeatures() {
        return weight.dIn();
    }

    @Override
    public int outFeatures() {
        return weight.dOut();
    }

    @Override
    public void forward(float[] x, int n, float[] y) {
        int dIn = weight.dIn();
        int dOut = weight.dOut();
        if (int8) {
            forwardInt8((UniformQuantized) weight, x, n, y);
        } else if (n == 1) {
            weight.matvec(x.length == dIn ? x : java.util.Arrays.copyOf(x, dIn), y);
        } else {
            int chunks = (n + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
            Parallel.forEach(chunks, c -> {
                int r0 = c * ROWS_PER_CHUNK;
                int rows = Math.min(ROWS_PER_CHUNK, n - r0);
                float[] xs = java.util.Arrays.copyOfRange(x, r0 * dIn, (r0 + rows) * dIn);
                float[] ys = new float[rows * dOut];
                weight.matmul(xs, rows, ys);
                System.arraycopy(ys, 0, y, r0 * dOut, rows * dOut);
            });
        }
        if (bias != null) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < dOut; j++) y[i * dOut + j] += bias[j];
            }
        }
    }

    /** Rows quantized to int8 per block of 32 (chunk by chunk across the pool), then integer block dots. */
    private static void forwardInt8(UniformQuantized w, float[] x, int n, float[] y) {
        int dIn = w.dIn();
        int dOut = w.dOut();
        FormatKernels k = FormatKernels.get();
        if (n == 1) {
            k.uniformMatvecInt8(w, Int8Activations.quantize(x, 1, dIn), y);
            return;
        }
        int chunks = (n + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK;
        Parallel.forEach(chunks, c -> {
            int r0 = c * ROWS_PER_CHUNK;
            int rows = Math.min(ROWS_PER_CHUNK, n - r0);
            Int8Activations xq = Int8Activations.quantize(java.util.Arrays.copyOfRange(x, r0 * dIn, (r0 + rows) * dIn), rows, dIn);
            float[] ys = new float[rows * dOut];
            k.uniformMatmulInt8(w, xq, ys);
            System.arraycopy(ys, 0, y, r0 * dOut, rows * dOut);
        });
    }

    @Override
    public void backwardInput(float[] dy, int n, float[] dx) {
        int dIn = weight.dIn();
        int dOut = weight.dOut();
        float[] w = new float[dOut * dIn];
        Parallel.forEach(Math.min(dOut, 64), c -> {
            for (int j = (int) ((long) dOut * c / Math.min(dOut, 64)); j < (long) dOut * (c + 1) / Math.min(dOut, 64); j++) {
                weight.dequantizeRow(j, w, j * dIn);
            }
        });
        Gemm.kernels().gemmAB(n, dIn, dOut, dy, 0, dOut, w, 0, dIn, dx, 0, dIn, true);
    }

    @Override
    public Tensor weight(Arena arena) {
        int dIn = weight.dIn();
        Tensor t = Tensor.allocate(arena, DType.F32, Shape.of(weight.dOut(), dIn));
        float[] row = new float[dIn];
        for (int j = 0; j < weight.dOut(); j++) {
            weight.dequantizeRow(j, row, 0);
            t.writeFloats((long) j * dIn, row, 0, dIn);
        }
        return t;
    }

    @Override
    public float[] bias() {
        return bias;
    }
}
