package dev.shrink4j.prune;

import dev.shrink4j.model.CheckpointConfig;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The checkpoint side of layer-wise pruning: a {@link LayerwisePruner.Sink} that stores each pruned
 * linear as it arrives — dense with zeros in the source weight's dtype, or CSR / N:M with values as
 * {@link SparseStorage#valueType} (F16, BF16 from BF16) — and {@link #finish} copies the rest of the
 * model and writes config.json with the formats' descriptors. The in-memory copy is rounded to the
 * stored dtype in place, so an evaluation of the pruned model matches the checkpoint.
 *
 * <pre>{@code
 * try (CheckpointWriter out = CheckpointWriter.create(dir, CheckpointWriter.Options.defaults())) {
 *     PrunedWeightsWriter w = new PrunedWeightsWriter(model, out, Storage.CSR, null);
 *     LayerwisePruner.run(model, calibration, LayerwisePruner.Settings.of(Method.WANDA, 0.5, null), w, null);
 *     w.finish(Map.of("method", "wanda"));
 *     out.commit();
 * }
 * }</pre>
 */
public final class PrunedWeightsWriter implements LayerwisePruner.Sink {
    /** How a pruned matrix is stored. */
    public enum Storage {
        /** The dense matrix with its zeros, in the source dtype. */
        DENSE,
        /** Compressed sparse rows (docs/formats.md). */
        CSR,
        /** N:M: the kept values and their positions in each group of M (needs a pattern). */
        NM;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One pruned matrix: its tensor name and the share of zeros. */
    public record Matrix(String tensor, double sparsity) {}

    private final List<Matrix> matrices = new ArrayList<>();
    private long zeros;
    private long weights;
    private final LlamaModel model;
    private final CheckpointWriter writer;
    private final Storage format;
    private final NmPattern pattern;
    private final Set<String> written = new HashSet<>();
    private final Map<String, Object> descriptors = new LinkedHashMap<>();
    private SparseStorage.Bytes bytes = SparseStorage.Bytes.ZERO;

    /** @param pattern the N:M pattern ({@link Storage#NM} needs one), or null */
    public PrunedWeightsWriter(LlamaModel model, CheckpointWriter writer, Storage format, NmPattern pattern) {
        if (format == Storage.NM && pattern == null) throw new IllegalArgumentException("N:M storage needs an N:M pattern");
        this.model = model;
        this.writer = writer;
        this.format = format;
        this.pattern = pattern;
    }

    /**
     * Writes one matrix.
     *
     * @param w (d_out, d_in); Modified: rounded to the stored dtype
     */
    @Override
    public void accept(int layer, Proj p, float[] w, int dOut, int dIn) {
        String module = p.module(layer);
        DType dtype = model.weights().tensor(module + ".weight").dtype();
        try (Arena arena = Arena.ofConfined()) {
            SparseStorage.round(w, format == Storage.DENSE ? dtype : SparseStorage.valueType(dtype, w));
            long z = 0;
            for (float v : w) {
                if (v == 0f) {
                    z++;
                }
            }
            long denseBytes = (long) dOut * dIn * dtype.byteSize();
            CompressedWeight cw = switch (format) {
                case DENSE -> null;
                case CSR -> SparseStorage.csr(arena, w, dOut, dIn, dtype);
                case NM -> SparseStorage.nm(arena, w, dOut, dIn, pattern, dtype);
            };
            if (cw == null) {
                Tensor dense = Tensor.ofFloats(arena, Shape.of(dOut, dIn), w);
                writer.add(module + ".weight", dtype == DType.F32 ? dense : dense.convert(arena, dtype));
                bytes = bytes.plus(denseBytes, denseBytes);
            } else {
                for (Map.Entry<String, Tensor> e : cw.toTensors(module).entrySet()) {
                    writer.add(e.getKey(), e.getValue());
                }
                descriptors.put(module, cw.descriptor());
                bytes = bytes.plus(cw.storageBytes(), denseBytes);
            }
            written.add(module + ".weight");
            zeros += z;
            weights += w.length;
            matrices.add(new Matrix(p.weightName(layer), (double) z / w.length));
        }
    }

    /**
     * Copies every tensor the pruner did not write (embeddings, norms, head) and writes config.json:
     * the input's, with the compressed modules' descriptors and {@code provenance} in its shrink4j block.
     */
    public void finish(Map<String, Object> provenance) {
        PrunedCheckpoint.copyRest(model, writer, written);
        Map<String, Object> config = CheckpointConfig.read(model.weights().directory());
        Map<String, Object> sh = PrunedCheckpoint.shrink4jBlock(config);
        if (!descriptors.isEmpty()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> tensors = (Map<String, Object>) sh.computeIfAbsent("tensors", k -> new LinkedHashMap<>());
            tensors.putAll(descriptors);
        }
        Map<String, Object> p = new LinkedHashMap<>(provenance);
        p.put("format", format.id());
        sh.put("provenance", p);
        writer.writeFile("config.json", CheckpointConfig.toJson(config)); // marked: other loaders refuse CSR / N:M
    }

    /** Zeros over all pruned matrices. */
    public long zeros() {
        return zeros;
    }

    /** Weights of all pruned matrices. */
    public long weights() {
        return weights;
    }

    /** The pruned matrices in the order they were written. */
    public List<Matrix> matrices() {
        return matrices;
    }

    /** Stored against dense bytes of the linears written so far. */
    public SparseStorage.Bytes storedBytes() {
        return bytes;
    }

    /** "warning: … larger than the dense input …" when the stored linears outgrew the input's, else empty. */
    public String sizeWarning() {
        return bytes.warning();
    }
}
