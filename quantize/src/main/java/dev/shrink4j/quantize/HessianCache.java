package dev.shrink4j.quantize;

import dev.shrink4j.model.Group;
import dev.shrink4j.model.Layer;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.CheckpointWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.IntUnaryOperator;

/**
 * Per-block layer Hessians on disk. With dense propagation (docs/methods/pipeline.md §2.3, docs/methods/guidedquant-lnq.md §4) the plain H = XᵀX/n
 * and GuidedQuant's H̄_k depend only on the model, the calibration tokens, the saliencies (themselves from
 * model + tokens) and the guided groups, not on the bit-width, so a second run reads them instead of
 * running the block forwards. One directory per cache, {@code block-NNNNN/model.safetensors} per block,
 * written atomically with {@link CheckpointWriter} as soon as the block's Hessians are complete and read
 * back one matrix at a time, so memory stays one block's worth.
 *
 * <p>Each matrix is stored as its upper triangle, row by row, F64 (d(d+1)/2 values): exactly the values
 * {@link dev.shrink4j.model.InputStatistics#hessian} mirrors into the full matrix, so a cached run is
 * bit-identical to an uncached one (with the same kernels, whose fp32 chunk products may round
 * differently). Size per matrix 4·d(d+1) bytes: TinyLlama-1.1B holds 3 plain H of d = 2048 and one of
 * 5632 per block, 22 blocks = 3.6 GiB; guided with g = 4 (six modules of 2048 and down_proj of 5632,
 * 4 matrices each) 18.7 GiB; Llama-2-7B 20.4 GiB plain, 106 GiB guided with g = 4.
 */
final class HessianCache {
    /** Bumped whenever the layout or the meaning of a stored matrix changes. */
    static final int FORMAT_VERSION = 1;

    private final Path dir;

    private HessianCache(Path dir) {
        this.dir = dir;
    }

    /**
     * The cache of one statistics-cache entry: {@code <statsDir>/<key>.hessians-<plain|guided>-v<version>-rows<r>}.
     * The statistics key covers model, calibration tokens and guided groups; the name adds what else the
     * matrices depend on: guided or plain, this format, and the tokens per forward chunk (each chunk's
     * product is rounded in fp32 before fp64 accumulation).
     */
    static HessianCache of(Path statsDir, String key, boolean guided, int rowsPerPass) {
        return new HessianCache(statsDir.resolve(key + ".hessians-" + (guided ? "guided" : "plain") + "-v" + FORMAT_VERSION
                + "-rows" + rowsPerPass));
    }

    Path directory() {
        return dir;
    }

    /** Name of the plain H shared by {@code group}'s members. */
    static String plainName(Group group) {
        return "h." + group.name();
    }

    /** Name of module's guided H̄_k. */
    static String guidedName(String module, int k) {
        return "h." + module + "." + k;
    }

    private Path block(int layer) {
        return dir.resolve(String.format("block-%05d", layer));
    }

    /** Whether block {@code layer}'s Hessians are all stored (blocks are written whole or not at all). */
    boolean has(int layer) {
        return Files.isRegularFile(block(layer).resolve(Checkpoint.SINGLE_FILE));
    }

    /** Bytes of one stored (d, d) matrix. */
    static long matrixBytes(int d) {
        return 4L * d * (d + 1);
    }

    /**
     * Bytes of a complete cache for {@code model}: per block one matrix per group (plain) or
     * {@code groupsForDOut} matrices per module (guided).
     */
    static long modelBytes(LlamaModel model, boolean guided, IntUnaryOperator groupsForDOut) {
        long total = 0;
        for (int l = 0; l < model.numLayers(); l++) {
            Layer layer = model.layer(l);
            for (Group g : Group.values()) {
                for (Proj p : g.members()) {
                    if (layer.linear(p) == null) continue;
                    long one = matrixBytes(layer.linear(p).inFeatures());
                    if (guided) {
                        total += one * groupsForDOut.applyAsInt(layer.linear(p).outFeatures());
                    } else if (p == g.members().get(0)) {
                        total += one;
                    }
                }
            }
        }
        return total;
    }

    /** Starts writing block {@code layer}; nothing is visible until {@link BlockWriter#commit}. */
    BlockWriter writer(int layer) {
        return new BlockWriter(CheckpointWriter.create(block(layer), new CheckpointWriter.Options(true, Long.MAX_VALUE,
                Map.of("format", "pt", "shrink4j_hessians", Integer.toString(FORMAT_VERSION), "layer", Integer.toString(layer)))));
    }

    /** One block's matrices, each streamed to disk by {@link #add}; closing without commit leaves nothing. */
    static final class BlockWriter implements AutoCloseable {
        private final CheckpointWriter out;

        private BlockWriter(CheckpointWriter out) {
            this.out = out;
        }

        /** @param h (d, d) symmetric, row-major; only its upper triangle is stored */
        void add(String name, double[] h, int d) {
            try (Arena a = Arena.ofConfined()) {
                Tensor t = Tensor.allocate(a, DType.F64, Shape.of((long) d * (d + 1) / 2));
                MemorySegment s = t.segment();
                long at = 0;
                for (int i = 0; i < d; i++) {
                    MemorySegment.copy(h, i * d + i, s, Tensor.F64, at * 8, d - i);
                    at += d - i;
                }
                out.add(name, t);
            }
        }

        void commit() {
            out.commit();
        }

        @Override
        public void close() {
            out.close();
        }
    }

    /** Reads one (d, d) matrix of block {@code layer}, mirrored from its stored upper triangle. */
    double[] read(int layer, String name, int d) {
        Path file = block(layer).resolve(Checkpoint.SINGLE_FILE);
        try (Arena a = Arena.ofConfined()) {
            Checkpoint ck = Checkpoint.open(file, a);
            Tensor t = ck.find(name).orElseThrow(() -> new ShrinkException("Hessian cache " + file + " lacks " + name
                    + "; delete " + dir + " to rebuild it"));
            long expected = (long) d * (d + 1) / 2;
            if (t.dtype() != DType.F64 || t.shape().rank() != 1 || t.shape().dim(0) != expected) {
                throw new ShrinkException("Hessian cache " + file + ": " + name + " is " + t.dtype() + " " + t.shape()
                        + ", expected F64 [" + expected + "] for d_in " + d + "; delete " + dir + " to rebuild it");
            }
            double[] h = new double[Math.multiplyExact(d, d)];
            MemorySegment s = t.segment();
            long at = 0;
            for (int i = 0; i < d; i++) {
                MemorySegment.copy(s, Tensor.F64, at * 8, h, i * d + i, d - i);
                at += d - i;
            }
            for (int i = 0; i < d; i++) {
                for (int j = i + 1; j < d; j++) h[j * d + i] = h[i * d + j];
            }
            return h;
        }
    }
}
