package dev.shrink4j.cli;

import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.tensors.io.SafetensorsHeaders;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The size an output will have, from its format's layout (docs/formats.md) and IN's safetensors headers,
 * without writing it. Block linears take what their format stores; every other tensor (embeddings, head,
 * norms) is copied at its stored size, read from IN's headers. Bits/weight has {@link CompressionRun}'s
 * definition: 8 × the block linears' stored bytes over their weights in IN.
 */
final class OutputSizeModel {
    private static final Pattern BLOCK_LINEAR = Pattern.compile("model\\.layers\\.\\d+\\.(self_attn|mlp)\\..*");
    /** A safetensors header entry, {"name":{"dtype":…,"shape":[…],"data_offsets":[…]}}: about this many bytes per tensor. */
    static final long HEADER_BYTES_PER_TENSOR = 110;

    /**
     * How the block linears are stored.
     *
     * @param format       quantize: shrink4j, dense, jlama-q4, gguf, compressed-tensors; prune: csr, nm, dense, compressed-tensors;
     *                     lowrank: shrink4j (factors) or dense
     * @param lut          quantize: a LUT method (squeezellm, lnq, guidedquant; requant's bases)
     * @param bits         quantize: code width b
     * @param groupSize    uniform: columns per scale/zero point; LUT: columns per codebook (0: one per row)
     * @param symmetric    uniform: no zero points
     * @param keep         prune/lowrank: share of each linear's values kept (1 − sparsity, or the params ratio)
     * @param nmM          prune: M of an N:M pattern (0: unstructured)
     * @param structured   prune 2ssp/width/depth: a smaller dense model (about {@code keep} of the linears' weights remain)
     * @param sparseShare  requant: share of weights in its CSR part (r_o + r_s)
     * @param targetBpw    quantize --target-bpw (NaN: none)
     * @param head         quantize --head-bits / --quantize-embeddings (null: both tables copied)
     */
    record Layout(String command, String format, boolean lut, int bits, int groupSize, boolean symmetric, double keep, int nmM, boolean structured,
                  double sparseShare, double targetBpw, Head head) {
        Layout(String command, String format, boolean lut, int bits, int groupSize, boolean symmetric, double keep, int nmM, boolean structured,
               double sparseShare, double targetBpw) {
            this(command, format, lut, bits, groupSize, symmetric, keep, nmM, structured, sparseShare, targetBpw, null);
        }
    }

    /** Widths of the head and the embedding table (0: copied), symmetric, {@code groupSize} columns per F16 scale. */
    record Head(int headBits, int embeddingBits, int groupSize) {}

    /** Estimated output: total safetensors bytes, the block linears' share, and their bits per input weight. */
    record Size(String format, long bytes, long blockLinearBytes, double bitsPerWeight) {}

    private OutputSizeModel() {}

    static Size estimate(Path in, ModelConfig c, CostModel shapes, Layout o) {
        Map<String, Long> tensors = SafetensorsHeaders.tensorBytes(in);
        long other = 0, inputLinearBytes = 0;
        int otherTensors = 0;
        for (Map.Entry<String, Long> e : tensors.entrySet()) {
            if (BLOCK_LINEAR.matcher(e.getKey()).matches()) inputLinearBytes += e.getValue();
            else if (headTableBits(e.getKey(), c, o) > 0) {
                // (vocab, hidden) codes + F16 scales; a tied table is the embedding, at either width (HeadQuantizer)
                long rows = c.vocabSize(), cols = c.hiddenSize();
                int b = headTableBits(e.getKey(), c, o);
                long g = Math.min(o.head().groupSize(), cols);
                other += rows * ((cols * b + 7) / 8) + rows * ((cols + g - 1) / g) * 2;
                otherTensors += 2;
            } else {
                other += e.getValue();
                otherTensors++;
            }
        }
        long weights = shapes.blockWeights();
        double inputBytesPerWeight = weights == 0 ? 2 : (double) inputLinearBytes / weights;
        long linearBytes = 0, linearTensors = 0;
        for (int l = 0; l < c.numLayers(); l++) {
            for (long[] lin : shapes.linears(l)) {
                long[] bt = linear(lin[0], lin[1], o, inputBytesPerWeight);
                linearBytes += bt[0];
                linearTensors += bt[1];
            }
        }
        if (!Double.isNaN(o.targetBpw())) linearBytes = (long) (o.targetBpw() / 8 * weights); // the allocation fills its budget
        long headers = 8 + HEADER_BYTES_PER_TENSOR * (otherTensors + linearTensors);
        return new Size(o.format(), other + linearBytes + headers, linearBytes, weights == 0 ? Double.NaN : 8.0 * linearBytes / weights);
    }

    /** The width {@code name} (lm_head.weight, model.embed_tokens.weight) is quantized to, or 0 when it is copied. */
    private static int headTableBits(String name, ModelConfig c, Layout o) {
        if (o.head() == null) return 0;
        if (name.equals("lm_head.weight")) return o.head().headBits();
        if (!name.equals("model.embed_tokens.weight")) return 0;
        return c.tieWordEmbeddings() ? Math.max(o.head().headBits(), o.head().embeddingBits()) : o.head().embeddingBits();
    }

    /** {bytes, tensors} of one (d_out, d_in) linear as stored. */
    static long[] linear(long dOut, long dIn, Layout o, double inputBytesPerWeight) {
        long n = dOut * dIn;
        long dense = (long) Math.ceil(n * inputBytesPerWeight);
        return switch (o.command()) {
            case "quantize" -> quantized(dOut, dIn, o, dense);
            case "prune" -> switch (o.format()) {
                // values F16 + I32 column indices, I32 row pointers (tensors.formats.CsrSparse)
                case "csr" -> new long[] {(long) Math.ceil(n * o.keep()) * 6 + 4 * (dOut + 1), 3};
                // kept values F16 + log2(M)-bit positions (tensors.formats.NmSparse); compressed-tensors' bitmask: 1 bit per weight
                case "nm" -> new long[] {(long) (n * o.keep()) * 2 + dOut * ((long) (dIn * o.keep()) * log2(o.nmM()) + 7) / 8, 2};
                case "compressed-tensors" -> new long[] {(long) (n * o.keep()) * 2 + n / 8, 3};
                default -> new long[] {o.structured() ? (long) (dense * o.keep()) : dense, 1}; // dense: zeros stored, or rows and blocks removed
            };
            case "lowrank" -> o.format().equals("dense") ? new long[] {dense, 1} : new long[] {(long) Math.ceil(dense * o.keep()), 2};
            default -> new long[] {dense, 1};
        };
    }

    /** docs/formats.md: codes packed b bits per weight per row; F16 scales and b-bit zero points per group; LUTs of 2^b F16 entries. */
    private static long[] quantized(long dOut, long dIn, Layout o, long dense) {
        int b = o.bits();
        long codes = dOut * ((dIn * b + 7) / 8);
        return switch (o.format()) {
            case "dense" -> new long[] {dense, 1};
            case "jlama-q4" -> new long[] {dOut * dIn / 2 + dOut * (dIn / 32) * 4, 2}; // nibbles + one F32 scale per 32
            case "gguf" -> { // Q4_0 18, Q4_1 20, Q8_0 34 bytes per block of 32
                long perBlock = b == 8 ? 34 : o.symmetric() ? 18 : 20;
                yield new long[] {dOut * ((dIn + 31) / 32) * perBlock, 1};
            }
            case "compressed-tensors" -> {
                long groups = (dIn + o.groupSize() - 1) / o.groupSize();
                long zeros = o.symmetric() ? 0 : ((dOut + 32 / b - 1) / (32 / b)) * groups * 4;
                yield new long[] {codes + dOut * groups * 2 + zeros + 16, o.symmetric() ? 3 : 4};
            }
            default -> {
                long bytes;
                long tensors;
                if (o.lut()) {
                    long books = o.groupSize() == 0 ? 1 : (dIn + o.groupSize() - 1) / o.groupSize();
                    bytes = codes + dOut * books * (1L << b) * 2;
                    tensors = 2;
                } else {
                    long groups = (dIn + o.groupSize() - 1) / o.groupSize();
                    bytes = codes + dOut * groups * 2 + (o.symmetric() ? 0 : dOut * ((groups * b + 7) / 8));
                    tensors = o.symmetric() ? 2 : 3;
                }
                if (o.sparseShare() > 0) { // requant: + CSR of the outliers and detached weights, F16 values, I32 indices
                    bytes += (long) Math.ceil(dOut * dIn * o.sparseShare()) * 6 + 4 * (dOut + 1);
                    tensors += 3;
                }
                yield new long[] {bytes, tensors};
            }
        };
    }

    private static int log2(int m) {
        return m <= 1 ? 0 : 32 - Integer.numberOfLeadingZeros(m - 1);
    }
}
