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
 * low-rank, …). The forward pass runs the format's own (single-threaded) kernels with Ŵ's output rows
 * split across the pool — one contiguous view per thread ({@link CompressedWeight#rows}), so a
 * batched matmul decodes each weight once and a decode-time matvec uses every core — or, for formats
 * that cannot split their rows (low-rank), the rows of X. The backward pass widens Ŵ to F32 for
 * the duration of the call.
 */
public final class CompressedLinear implements Linear {
    /** Rows of X per parallel chunk of the format's (single-threaded) matmul, for formats that cannot split Ŵ's rows. */
    private static final int ROWS_PER_CHUNK = 16;
    /**
     * From this many rows of X an int8-activation layer widens x̂ back to F32 and takes the GEMM path
     * (PanamaFormatGemm's MIN_ROWS): per-row integer dots re-read Ŵ once per row of X.
     */
    static final int BATCH_ROWS = 16;
    /** Output rows per part at least: one GEMM strip (2 vectors of 16 floats on AVX-512). */
    private static final int MIN_PART_ROWS = 32;
    /** Below this many weights a layer runs on the calling thread (PanamaKernels' PARALLEL_STREAM_ELEMENTS). */
    private static final long MIN_SPLIT_ELEMENTS = 1L << 16;

    private final CompressedWeight weight; // (d_out, d_in)
    private final float[] bias; // (d_out) or null
    private final boolean int8; // activations quantized to int8 per block of 32
    private volatile Parts parts; // null until the first forward decides

    /** Row views of the weight, one per thread (none: not split), and the first output row of each. */
    private record Parts(CompressedWeight[] views, int[] starts, boolean shareable) {}

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
        float[] xs = x.length == n * dIn ? x : java.util.Arrays.copyOf(x, n * dIn);
        if (int8 && n < BATCH_ROWS) {
            forwardInt8((UniformQuantized) weight, xs, n, y);
        } else if (int8) {
            // A batch: x̂ = d_b·q widened back to F32 and multiplied on the GEMM path, the int8 dots'
            // products up to float rounding at the GEMM's speed.
            forwardF32(Int8Activations.roundTrip(xs, n, dIn), n, y);
        } else {
            forwardF32(xs, n, y);
        }
        if (bias != null) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < dOut; j++) y[i * dOut + j] += bias[j];
            }
        }
    }

    /** F32 activations: output rows split across the pool where the format allows it, else input rows. */
    private void forwardF32(float[] x, int n, float[] y) {
        int dIn = weight.dIn();
        int dOut = weight.dOut();
        Parts parts = parts();
        if (parts != null) {
            forEachPart(parts, n, y, (part, ys) -> {
                if (n == 1) part.matvec(x, ys);
                else part.matmul(x, n, ys);
            });
        } else if (n == 1) {
            weight.matvec(x, y);
        } else if (!layout().shareable()) {
            weight.matmul(x, n, y); // memory confined to this thread: no helper may read it
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
    }

    /** One part's product: ys (n, part.dOut()), Modified. */
    @FunctionalInterface
    private interface PartProduct {
        void run(CompressedWeight part, float[] ys);
    }

    /** Runs {@code body} for every part in parallel and scatters each part's columns into y (n, d_out). */
    private void forEachPart(Parts parts, int n, float[] y, PartProduct body) {
        int dOut = weight.dOut();
        CompressedWeight[] views = parts.views();
        Parallel.forEach(views.length, c -> {
            int j0 = parts.starts()[c], width = views[c].dOut();
            float[] ys = new float[n * width];
            body.run(views[c], ys);
            if (n == 1) {
                System.arraycopy(ys, 0, y, j0, width);
            } else {
                for (int r = 0; r < n; r++) System.arraycopy(ys, r * width, y, r * dOut + j0, width);
            }
        });
    }

    /**
     * The weight's output rows cut into one contiguous view per thread (made on first use), or null
     * when it runs on the calling thread: the kernels are CUDA's, the format cannot split its rows, its
     * memory is confined to one thread, or it is too small for a hand-over to pay.
     */
    private Parts parts() {
        if (FormatKernels.get().name().equals("cuda")) {
            return null; // one device: its calls are serialized, and halves of a weight may fall under its small-weight cut-off
        }
        Parts p = layout();
        return p.views().length == 0 ? null : p;
    }

    private Parts layout() {
        Parts p = parts;
        if (p == null) {
            p = split();
            parts = p;
        }
        return p;
    }

    private Parts split() {
        int dOut = weight.dOut();
        int t = Math.min(Parallel.threads(), dOut / MIN_PART_ROWS);
        boolean shareable = weight.toTensors("w").values().stream().allMatch(v -> Parallel.shareable(v.segment()));
        if (t < 2 || (long) dOut * weight.dIn() < MIN_SPLIT_ELEMENTS || weight.rows(0, 1) == null || !shareable) {
            return new Parts(new CompressedWeight[0], new int[0], shareable);
        }
        CompressedWeight[] views = new CompressedWeight[t];
        int[] starts = new int[t + 1];
        int units = dOut / MIN_PART_ROWS;
        for (int c = 1; c < t; c++) starts[c] = (int) ((long) units * c / t) * MIN_PART_ROWS; // whole GEMM strips
        starts[t] = dOut;
        for (int c = 0; c < t; c++) views[c] = weight.rows(starts[c], starts[c + 1]);
        return new Parts(views, starts, true);
    }

    /** Rows quantized to int8 per block of 32, then integer block dots (output rows split across the pool where the weight allows it). */
    private void forwardInt8(UniformQuantized w, float[] x, int n, float[] y) {
        FormatKernels k = FormatKernels.get();
        Int8Activations xq = Int8Activations.quantize(x, n, w.dIn());
        Parts parts = parts();
        if (parts != null) {
            forEachPart(parts, n, y, (part, ys) -> {
                if (n == 1) k.uniformMatvecInt8((UniformQuantized) part, xq, ys);
                else k.uniformMatmulInt8((UniformQuantized) part, xq, ys);
            });
        } else if (n == 1) {
            k.uniformMatvecInt8(w, xq, y);
        } else {
            k.uniformMatmulInt8(w, xq, y);
        }
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
